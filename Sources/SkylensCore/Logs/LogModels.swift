/// A log group as the store describes it.
package struct LogGroupInfo: Sendable, Equatable {
    package var name: String
    package var creationTime: Int64
    package var retentionInDays: Int?
    package var metricFilterCount: Int
    package var storedBytes: Int64

    package init(name: String, creationTime: Int64, retentionInDays: Int?, metricFilterCount: Int = 0, storedBytes: Int64 = 0) {
        self.name = name
        self.creationTime = creationTime
        self.retentionInDays = retentionInDays
        self.metricFilterCount = metricFilterCount
        self.storedBytes = storedBytes
    }
}

/// A log stream as the store describes it.
package struct LogStreamInfo: Sendable, Equatable {
    package var name: String
    package var creationTime: Int64
    package var firstEventTimestamp: Int64?
    package var lastEventTimestamp: Int64?
    package var lastIngestionTime: Int64?
    package var storedBytes: Int64

    package init(name: String, creationTime: Int64, firstEventTimestamp: Int64? = nil, lastEventTimestamp: Int64? = nil,
                 lastIngestionTime: Int64? = nil, storedBytes: Int64 = 0) {
        self.name = name
        self.creationTime = creationTime
        self.firstEventTimestamp = firstEventTimestamp
        self.lastEventTimestamp = lastEventTimestamp
        self.lastIngestionTime = lastIngestionTime
        self.storedBytes = storedBytes
    }
}

/// An event read back from the store.
///
/// `seq` is the event's position in its stream, assigned at commit; `(timestamp, seq)` orders a stream.
package struct StoredEvent: Sendable, Equatable {
    package var stream: String
    package var streamID: Int64
    package var seq: Int64
    package var timestamp: Int64
    package var ingestionTime: Int64
    package var message: String

    package init(stream: String, streamID: Int64, seq: Int64, timestamp: Int64, ingestionTime: Int64, message: String) {
        self.stream = stream
        self.streamID = streamID
        self.seq = seq
        self.timestamp = timestamp
        self.ingestionTime = ingestionTime
        self.message = message
    }

    /// The position of this event within its stream.
    package var key: EventKey { EventKey(timestamp: timestamp, seq: seq) }

    /// A unique, stable event id: the stream's id and the event's sequence number, as decimal digits.
    package var eventID: String { EventID.make(streamID: streamID, seq: seq) }
}

/// Event ids: 56 decimal digits like AWS's, made of the stream id (20 digits) and the sequence number (36 digits).
package enum EventID {
    package static func make(streamID: Int64, seq: Int64) -> String {
        pad(streamID, 20) + pad(seq, 36)
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// The total order of events in a stream: by timestamp, then by sequence number.
package struct EventKey: Sendable, Hashable, Comparable {
    package var timestamp: Int64
    package var seq: Int64

    package init(timestamp: Int64, seq: Int64) {
        self.timestamp = timestamp
        self.seq = seq
    }

    package static func < (a: EventKey, b: EventKey) -> Bool {
        (a.timestamp, a.seq) < (b.timestamp, b.seq)
    }
}

/// A page of results with the token for the next one (`nil` at the end).
package struct Page<Item: Sendable>: Sendable {
    package var items: [Item]
    package var nextToken: String?

    package init(items: [Item], nextToken: String?) {
        self.items = items
        self.nextToken = nextToken
    }
}
