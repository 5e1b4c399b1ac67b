/// A validated document on its way to the store: what was parsed, and the text as sent (BatchGetTraces returns it).
///
/// What the store needs to route a batch's documents to their traces and blocks (trace id, start, whether it links
/// to another trace) is also held here, taken from the segment when the document is made (while the parser has
/// just written it): the store's passes over a whole batch then read this array alone, not every segment again.
package struct SegmentDocument: Sendable {
    package let segment: Segment
    /// The text's UTF-8 bytes: a slice, so that a batch's documents can share one buffer instead of a string each.
    package var text: ArraySlice<UInt8>
    /// The segment's trace id (the same string).
    package let traceID: String
    /// Its key (nil for an id that is not one: the store refuses the document).
    package let traceKey: TraceKey?
    /// The segment's start time in epoch milliseconds.
    package let startMillis: Int64
    /// A top-level segment (no parent) with a span link to another trace: the store may join it to that trace.
    package let linksAnotherTrace: Bool

    package init(segment: Segment, text: ArraySlice<UInt8>) {
        self.segment = segment
        self.text = text
        traceID = segment.traceID
        traceKey = TraceKey(traceID)
        startMillis = Int64(segment.startTime * 1000)
        linksAnotherTrace = segment.parentKey == nil && segment.links.contains { $0.traceID != segment.traceID }
    }

    package init(segment: Segment, text: String) {
        self.init(segment: segment, text: ArraySlice(text.utf8))
    }
}

/// A stored trace: its documents as sent, and its facts.
package struct StoredTrace: Sendable {
    package var facts: TraceFacts
    /// (segment id, document text) in arrival order, in-progress versions replaced.
    package var documents: [(id: String, text: String)]

    package init(facts: TraceFacts, documents: [(id: String, text: String)]) {
        self.facts = facts
        self.documents = documents
    }
}

/// GetTraceSummaries' `TimeRangeType`: the trace id's time, any segment's time (`Event`), or the root's (`Service`).
package enum TraceTimeRange: String, Sendable {
    case traceID = "TraceId", event = "Event", service = "Service"
}

/// One page of summaries.
package struct TraceSummaryPage: Sendable {
    package var summaries: [TraceFacts]
    /// Traces the filter looked at (X-Ray's TracesProcessedCount).
    package var processed: Int
    package var nextToken: String?

    package init(summaries: [TraceFacts], processed: Int, nextToken: String?) {
        self.summaries = summaries
        self.processed = processed
        self.nextToken = nextToken
    }
}

/// Counts and a latency histogram for one service, or one edge, over a time range.
package struct ServiceStatistics: Sendable, Equatable {
    package var ok: Int64 = 0
    package var error: Int64 = 0
    package var throttle: Int64 = 0
    package var fault: Int64 = 0
    package var totalResponseTimeMillis: Int64 = 0
    /// Response time (milliseconds) → count.
    package var histogram: [Int64: Int64] = [:]

    package init() {}

    package var total: Int64 { ok + error + throttle + fault }

    package mutating func add(_ sample: GraphSample, sign: Int64 = 1) {
        switch sample.outcome {
        case .ok: ok += sign
        case .error: error += sign
        case .throttle: throttle += sign
        case .fault: fault += sign
        }
        totalResponseTimeMillis += sign * sample.responseTimeMillis
        let n = histogram[sample.responseTimeMillis, default: 0] + sign
        histogram[sample.responseTimeMillis] = n == 0 ? nil : n
    }

    package mutating func merge(_ other: ServiceStatistics) {
        ok += other.ok
        error += other.error
        throttle += other.throttle
        fault += other.fault
        totalResponseTimeMillis += other.totalResponseTimeMillis
        for (k, v) in other.histogram {
            let n = histogram[k, default: 0] + v
            histogram[k] = n == 0 ? nil : n
        }
    }

    /// The response time (milliseconds) below which `fraction` of requests finished.
    package func percentile(_ fraction: Double) -> Int64? {
        let total = histogram.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = Int64((Double(total) * fraction).rounded(.up))
        var seen: Int64 = 0
        for (value, count) in histogram.sorted(by: { $0.key < $1.key }) {
            seen += count
            if seen >= max(1, rank) { return value }
        }
        return histogram.keys.max()
    }
}

/// One row of the service map for a minute: a service's own requests (`source` nil) or an edge's calls.
package struct ServiceGraphRow: Sendable, Equatable {
    package var minute: Int64
    package var source: ServiceID?
    package var destination: ServiceID
    package var statistics: ServiceStatistics

    package init(minute: Int64, source: ServiceID?, destination: ServiceID, statistics: ServiceStatistics) {
        self.minute = minute
        self.source = source
        self.destination = destination
        self.statistics = statistics
    }
}

/// How the live service map changes when traces' facts change: each trace's new samples added, its old ones taken
/// away, summed into one row per minute, source and destination (a commit folds every trace it writes into one).
package struct ServiceGraphDelta {
    /// Beyond this many rows, a commit's rows are found through a hash table; below, by comparing in turn (a commit
    /// touches a few services and edges in a minute or two, and most service names are small strings, compared
    /// without hashing).
    static let linearLimit = 32

    private struct Key: Hashable {
        var minute: Int64
        var source: ServiceID?
        var destination: ServiceID
    }

    private var rows: [ServiceGraphRow] = []
    private var table: [Key: Int]?
    /// The row the last sample went to (a trace's samples often go to the same one in turn).
    private var last = 0

    package init() {}

    /// The samples added (`sign` 1) or taken away (-1).
    package mutating func add(_ samples: [GraphSample], sign: Int64) {
        // Read in place: a copy of a sample retained and released its service names.
        for i in samples.indices { add(samples[i], sign: sign) }
    }

    /// Whether row `r` is where sample `s` is counted (its minute and edge). (Inlined, of borrowed values: a closure
    /// capturing the sample copied it, and a call copied the row, each retaining service names.)
    @inline(__always) private static func counts(_ s: borrowing GraphSample, in r: borrowing ServiceGraphRow) -> Bool {
        r.minute == s.minute && r.destination == s.destination && r.source == s.source
    }

    private mutating func add(_ s: borrowing GraphSample, sign: Int64) {
        if last < rows.count, Self.counts(s, in: rows[last]) {
            rows[last].statistics.add(s, sign: sign)
            return
        }
        var found: Int?
        if let table {
            found = table[Key(minute: s.minute, source: s.source, destination: s.destination)]
        } else {
            for i in rows.indices where Self.counts(s, in: rows[i]) {
                found = i
                break
            }
        }
        if let i = found {
            last = i
            rows[i].statistics.add(s, sign: sign)
            return
        }
        var statistics = ServiceStatistics()
        statistics.add(s, sign: sign)
        last = rows.count
        rows.append(ServiceGraphRow(minute: s.minute, source: s.source, destination: s.destination, statistics: statistics))
        table?[Key(minute: s.minute, source: s.source, destination: s.destination)] = last
        if table == nil, rows.count > Self.linearLimit {
            var t: [Key: Int] = [:]
            for (i, r) in rows.enumerated() { t[Key(minute: r.minute, source: r.source, destination: r.destination)] = i }
            table = t
        }
    }

    /// The rows that changed (those whose additions and removals cancelled out are left out).
    package var changedRows: [ServiceGraphRow] {
        rows.filter { !($0.statistics.total == 0 && $0.statistics.histogram.isEmpty && $0.statistics.totalResponseTimeMillis == 0) }
    }

    package static func rows(adding new: [GraphSample], removing old: [GraphSample]) -> [ServiceGraphRow] {
        var delta = ServiceGraphDelta()
        delta.add(new, sign: 1)
        delta.add(old, sign: -1)
        return delta.changedRows
    }
}

/// Log events of a stream that name a trace id: the first and last of their timestamps (a trace's lines are looked
/// for in that window of that stream, so one window per trace and stream is all that is kept).
package struct TraceLogReference: Sendable, Equatable {
    package var traceID: String
    package var logGroup: String
    package var logStream: String
    package var first: Int64
    package var last: Int64

    package init(traceID: String, logGroup: String, logStream: String, first: Int64, last: Int64) {
        self.traceID = traceID
        self.logGroup = logGroup
        self.logStream = logStream
        self.first = first
        self.last = last
    }

    /// One event's reference.
    package init(traceID: String, logGroup: String, logStream: String, timestamp: Int64) {
        self.init(traceID: traceID, logGroup: logGroup, logStream: logStream, first: timestamp, last: timestamp)
    }
}

/// The trace store port.
package protocol TraceStore: Sendable {
    /// Stores validated documents, re-assembles each trace they touch, and updates the service map, in one commit.
    func append(_ documents: [SegmentDocument], now: Int64) async throws
    /// Traces by id (a trace joined into another by an async link is found under either id).
    func traces(ids: [String]) async throws -> [StoredTrace]
    /// Summaries of traces in a time range (epoch seconds) that match a filter, oldest first.
    func summaries(start: Double, end: Double, range: TraceTimeRange, filter: FilterExpression?, after token: String?,
                   limit: Int) async throws -> TraceSummaryPage
    /// The service map's rows for the minutes in [start, end).
    func serviceGraph(start: Double, end: Double) async throws -> [ServiceGraphRow]
    /// Records log events that name traces (widening each trace's window in their stream).
    func addLogReferences(_ references: [TraceLogReference]) async throws
    func logReferences(traceIDs: [String]) async throws -> [TraceLogReference]
    /// Deletes traces (and their map rows) older than the cut-off (epoch seconds).
    func deleteTraces(before: Double) async throws -> Int
    /// Brings the filter index up to date with every committed trace (queries do it themselves when needed; the
    /// maintenance loop calls it so that they rarely have to).
    func flushIndex() async throws
}
