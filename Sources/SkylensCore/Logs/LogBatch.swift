/// A batch of input events kept in one byte arena: the shape in which PutLogEvents bodies are decoded.
///
/// ```
/// bytes:   [message 0][message 1][message 2]...
/// offsets: 0          o1         o2          ... bytes.count   (count + 1 entries)
/// ```
/// One allocation for all messages keeps decoding and block encoding free of per-event objects.
package struct LogBatch: Sendable, Equatable {
    package var timestamps: [Int64] = []
    package var offsets: [Int] = [0]
    package var bytes: [UInt8] = []

    package init() {}

    package init(_ events: [(timestamp: Int64, message: String)]) {
        for event in events { append(timestamp: event.timestamp, message: Array(event.message.utf8)) }
    }

    package var count: Int { timestamps.count }
    package var isEmpty: Bool { timestamps.isEmpty }

    package mutating func append(timestamp: Int64, message: some Collection<UInt8>) {
        timestamps.append(timestamp)
        bytes.append(contentsOf: message)
        offsets.append(bytes.count)
    }

    /// The byte range of message `i` inside ``bytes``.
    package func range(_ i: Int) -> Range<Int> { offsets[i]..<offsets[i + 1] }

    /// The UTF-8 size of message `i`.
    package func messageSize(_ i: Int) -> Int { offsets[i + 1] - offsets[i] }

    package func message(_ i: Int) -> String { String(decoding: bytes[range(i)], as: UTF8.self) }

    /// The events `range` as a new batch.
    package func slice(_ range: Range<Int>) -> LogBatch {
        var out = LogBatch()
        out.timestamps = Array(timestamps[range])
        let base = offsets[range.lowerBound]
        out.bytes = Array(bytes[base..<offsets[range.upperBound]])
        out.offsets = offsets[range.lowerBound...range.upperBound].map { $0 - base }
        return out
    }
}
