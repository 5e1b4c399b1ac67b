/// The port through which the collector keeps and reads log data. `SkylensStorage` implements it over SQLite.
///
/// Every method takes the time it needs as a parameter; implementations read no clock.
package protocol LogStore: Sendable {
    func createLogGroup(_ name: String, tags: [String: String], now: Int64) async throws
    func deleteLogGroup(_ name: String) async throws
    func describeLogGroups(_ query: LogGroupQuery) async throws -> Page<LogGroupInfo>
    /// The group's retention in days (`nil`: never expire); throws `ResourceNotFoundException` for an unknown group.
    func retention(ofGroup name: String) async throws -> Int?
    func putRetentionPolicy(group: String, days: Int?) async throws

    func createLogStream(group: String, name: String, now: Int64) async throws
    func deleteLogStream(group: String, name: String) async throws
    func describeLogStreams(_ query: LogStreamQuery) async throws -> Page<LogStreamInfo>

    /// Does the expensive part of storing `request` (compression) off the commit path, on the caller's task.
    func prepareForAppend(_ request: inout AppendRequest) throws

    /// Commits `batches` durably, in one transaction, and returns where each batch landed (in order).
    func append(_ batches: [AppendRequest]) async throws -> [Result<AppendReceipt, LogsError>]

    func getLogEvents(_ query: GetEventsQuery) async throws -> EventsPage
    func filterLogEvents(_ query: FilterEventsQuery, matcher: CompiledFilterPattern) async throws -> FilterPage

    func tags(ofGroup name: String) async throws -> [String: String]
    func tagGroup(_ name: String, add: [String: String], remove: [String]) async throws

    /// Deletes data older than each group's retention; returns the number of events removed.
    func sweepExpired(now: Int64) async throws -> Int
    /// Compresses hot events older than `olderThan` (or past the size threshold) into sealed blocks.
    func sealHotEvents(olderThan: Int64) async throws -> Int
}

/// One `PutLogEvents` batch on its way to storage: the accepted events, already validated.
package struct AppendRequest: Sendable {
    package var group: String
    package var stream: String
    package var events: LogBatch
    package var ingestionTime: Int64
    /// An encoded block prepared off the writer's path when the batch is large enough to be sealed at once.
    package var sealedBlock: EncodedBlockPayload?

    package init(group: String, stream: String, events: LogBatch, ingestionTime: Int64, sealedBlock: EncodedBlockPayload? = nil) {
        self.group = group
        self.stream = stream
        self.events = events
        self.ingestionTime = ingestionTime
        self.sealedBlock = sealedBlock
    }
}

/// Where a committed batch landed: event `i` of the batch has sequence number `firstSeq + i` in stream `streamID`.
package struct AppendReceipt: Sendable, Equatable {
    package var streamID: Int64
    package var firstSeq: Int64
    package init(streamID: Int64, firstSeq: Int64) {
        self.streamID = streamID
        self.firstSeq = firstSeq
    }
}

/// Opaque, already-compressed block bytes produced by the storage codec for a batch (see `SkylensStorage/README.md`).
package struct EncodedBlockPayload: Sendable {
    package var bytes: [UInt8]
    package var rawBytes: Int
    package init(bytes: [UInt8], rawBytes: Int) {
        self.bytes = bytes
        self.rawBytes = rawBytes
    }
}

package struct LogGroupQuery: Sendable {
    package var prefix: String?
    /// Case-insensitive substring (`logGroupNamePattern`).
    package var pattern: String?
    package var limit: Int
    package var nextToken: String?

    package init(prefix: String? = nil, pattern: String? = nil, limit: Int = 50, nextToken: String? = nil) {
        self.prefix = prefix
        self.pattern = pattern
        self.limit = limit
        self.nextToken = nextToken
    }
}

package struct LogStreamQuery: Sendable {
    package enum Order: Sendable { case logStreamName, lastEventTime }
    package var group: String
    package var prefix: String?
    package var orderBy: Order
    package var descending: Bool
    package var limit: Int
    package var nextToken: String?

    package init(group: String, prefix: String? = nil, orderBy: Order = .logStreamName, descending: Bool = false,
                 limit: Int = 50, nextToken: String? = nil) {
        self.group = group
        self.prefix = prefix
        self.orderBy = orderBy
        self.descending = descending
        self.limit = limit
        self.nextToken = nextToken
    }
}

package struct GetEventsQuery: Sendable {
    package var group: String
    package var stream: String
    /// Inclusive start, epoch milliseconds.
    package var startTime: Int64?
    /// Exclusive end, epoch milliseconds.
    package var endTime: Int64?
    package var token: GetLogEventsToken?
    package var limit: Int
    package var startFromHead: Bool

    package init(group: String, stream: String, startTime: Int64? = nil, endTime: Int64? = nil, token: GetLogEventsToken? = nil,
                 limit: Int = 10_000, startFromHead: Bool = false) {
        self.group = group
        self.stream = stream
        self.startTime = startTime
        self.endTime = endTime
        self.token = token
        self.limit = limit
        self.startFromHead = startFromHead
    }
}

package struct EventsPage: Sendable {
    package var events: [StoredEvent]
    package var nextForwardToken: String
    package var nextBackwardToken: String

    package init(events: [StoredEvent], nextForwardToken: String, nextBackwardToken: String) {
        self.events = events
        self.nextForwardToken = nextForwardToken
        self.nextBackwardToken = nextBackwardToken
    }
}

package struct FilterEventsQuery: Sendable {
    package var group: String
    package var streamNames: [String]?
    package var streamPrefix: String?
    package var startTime: Int64?
    package var endTime: Int64?
    package var cursor: FilterCursor?
    package var limit: Int

    package init(group: String, streamNames: [String]? = nil, streamPrefix: String? = nil, startTime: Int64? = nil,
                 endTime: Int64? = nil, cursor: FilterCursor? = nil, limit: Int = 10_000) {
        self.group = group
        self.streamNames = streamNames
        self.streamPrefix = streamPrefix
        self.startTime = startTime
        self.endTime = endTime
        self.cursor = cursor
        self.limit = limit
    }
}

package struct FilterPage: Sendable {
    package var events: [StoredEvent]
    package var nextToken: String?
    package var searchedStreams: [String]

    package init(events: [StoredEvent], nextToken: String?, searchedStreams: [String]) {
        self.events = events
        self.nextToken = nextToken
        self.searchedStreams = searchedStreams
    }
}

/// Limits shared by the read APIs.
package enum ReadLimits {
    /// Responses stop at 1 MB of event data, as AWS's do.
    package static let maxResponseBytes = 1_048_576
}
