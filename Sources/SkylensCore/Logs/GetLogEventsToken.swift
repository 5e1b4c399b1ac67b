/// The `nextForwardToken` / `nextBackwardToken` of `GetLogEvents`.
///
/// Text form: `f/` or `b/` followed by 56 digits: the timestamp (20 digits) and the sequence number (36), of the
/// event the page ended at. `f/K` reads the events after `K`; `b/K` the events before `K`.
package struct GetLogEventsToken: Sendable, Equatable {
    package enum Direction: Sendable, Equatable { case forward, backward }

    package var direction: Direction
    package var key: EventKey

    package init(_ direction: Direction, _ key: EventKey) {
        self.direction = direction
        self.key = key
    }

    package var text: String {
        (direction == .forward ? "f/" : "b/") + EventID.pad(key.timestamp, 20) + EventID.pad(key.seq, 36)
    }

    /// Parses a token; throws `InvalidParameterException` for anything that was not made by ``text``.
    package static func parse(_ text: String) throws(LogsError) -> GetLogEventsToken {
        let bytes = Array(text.utf8)
        guard bytes.count == 58, bytes[1] == UInt8(ascii: "/"),
              bytes[0] == UInt8(ascii: "f") || bytes[0] == UInt8(ascii: "b"),
              bytes[2...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let ts = Int64(String(decoding: bytes[2..<22], as: UTF8.self)),
              let seq = Int64(String(decoding: bytes[22..<58], as: UTF8.self))
        else { throw LogsError.invalidToken }
        return GetLogEventsToken(bytes[0] == UInt8(ascii: "f") ? .forward : .backward, EventKey(timestamp: ts, seq: seq))
    }
}

/// The `nextToken` of `FilterLogEvents`: the position after the last event returned, across all streams of a group.
///
/// Text form: `<timestamp>-<streamID>-<seq>` in lower-case hexadecimal, prefixed by `F`.
package struct FilterCursor: Sendable, Hashable, Comparable {
    package var timestamp: Int64
    package var streamID: Int64
    package var seq: Int64

    package init(timestamp: Int64, streamID: Int64, seq: Int64) {
        self.timestamp = timestamp
        self.streamID = streamID
        self.seq = seq
    }

    package static func < (a: FilterCursor, b: FilterCursor) -> Bool {
        (a.timestamp, a.streamID, a.seq) < (b.timestamp, b.streamID, b.seq)
    }

    package var text: String {
        "F" + String(timestamp, radix: 16) + "-" + String(streamID, radix: 16) + "-" + String(seq, radix: 16)
    }

    package static func parse(_ text: String) throws(LogsError) -> FilterCursor {
        guard text.hasPrefix("F") else { throw LogsError.invalidToken }
        let parts = text.dropFirst().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let ts = Int64(parts[0], radix: 16), let stream = Int64(parts[1], radix: 16), let seq = Int64(parts[2], radix: 16),
              ts >= 0, stream >= 0, seq >= 0
        else { throw LogsError.invalidToken }
        return FilterCursor(timestamp: ts, streamID: stream, seq: seq)
    }
}
