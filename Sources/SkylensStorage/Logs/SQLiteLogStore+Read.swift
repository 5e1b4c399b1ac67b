import Foundation
import GRDB
import SkylensCore

/// Reading events back: both APIs run one ordered scan over the hot tier and the blocks that overlap the window.
extension SQLiteLogStore {
    package func getLogEvents(_ q: GetEventsQuery) async throws -> EventsPage {
        var window = (lo: q.startTime ?? Int64.min, hi: q.endTime ?? Int64.max)
        let ascending: Bool
        let token = q.token
        switch token {
        case let token? where token.direction == .forward:
            ascending = true
            window.lo = max(window.lo, token.key.timestamp)
        case let token?:
            ascending = false
            window.hi = min(window.hi, token.key.timestamp &+ 1)
        case nil:
            ascending = q.startFromHead
        }
        let (lo, hi) = window
        let (streamID, metas, hot) = try await pool.read { db -> (Int64, [BlockMeta], [StoredEvent]) in
            guard let gid = try Self.groupID(db, q.group) else { throw LogsError.groupNotFound }
            guard let stream = try Self.streamRow(db, groupID: gid, name: q.stream) else { throw LogsError.streamNotFound }
            let metas = try BlockMeta.fetch(db, where: "stream_id = ?", [stream.id], lo: lo, hi: hi)
            let hot = try Self.hotEvents(db, where: "stream_id = ?", [stream.id], lo: lo, hi: hi, names: [stream.id: q.stream])
            return (stream.id, metas, hot)
        }
        let (start, end) = (q.startTime, q.endTime)
        let scan = try await orderedScan(
            metas: metas, hot: hot, names: [streamID: q.stream], ascending: ascending, limit: q.limit, matcher: nil
        ) { ts, _, seq in
            if let start, ts < start { return false }
            if let end, ts >= end { return false }
            guard let token else { return true }
            let key = EventKey(timestamp: ts, seq: seq)
            return token.direction == .forward ? key > token.key : key < token.key
        }
        var events = scan.events
        if !ascending { events.reverse() }
        guard let first = events.first, let last = events.last else {
            if let token {
                let back = GetLogEventsToken(.backward, token.key).text
                let forward = GetLogEventsToken(.forward, token.key).text
                return EventsPage(events: [], nextForwardToken: token.direction == .forward ? token.text : forward,
                                  nextBackwardToken: token.direction == .backward ? token.text : back)
            }
            return EventsPage(events: [],
                              nextForwardToken: GetLogEventsToken(.forward, EventKey(timestamp: max(0, (q.startTime ?? 0) - 1), seq: Int64.max / 2)).text,
                              nextBackwardToken: GetLogEventsToken(.backward, EventKey(timestamp: min(q.endTime ?? 9_999_999_999_999, 9_999_999_999_999), seq: 0)).text)
        }
        return EventsPage(events: events, nextForwardToken: GetLogEventsToken(.forward, last.key).text,
                          nextBackwardToken: GetLogEventsToken(.backward, first.key).text)
    }

    package func filterLogEvents(_ q: FilterEventsQuery, matcher: CompiledFilterPattern) async throws -> FilterPage {
        let lo = max(q.startTime ?? Int64.min, q.cursor?.timestamp ?? Int64.min)
        let hi = q.endTime ?? Int64.max
        let (names, metas, hot) = try await pool.read { db -> ([Int64: String], [BlockMeta], [StoredEvent]) in
            guard let gid = try Self.groupID(db, q.group) else { throw LogsError.groupNotFound }
            var names: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM log_stream WHERE group_id = ?", arguments: [gid]) {
                let name: String = row[1]
                if let wanted = q.streamNames, !wanted.contains(name) { continue }
                if let prefix = q.streamPrefix, !name.hasPrefix(prefix) { continue }
                names[row[0]] = name
            }
            let filtered = q.streamNames != nil || q.streamPrefix != nil
            if filtered && names.isEmpty { return (names, [], []) }
            let streamClause = filtered ? " AND stream_id IN (\(names.keys.map(String.init).joined(separator: ",")))" : ""
            let metas = try BlockMeta.fetch(db, where: "group_id = ?" + streamClause, [gid], lo: lo, hi: hi)
            let hot = try Self.hotEvents(db, where: "group_id = ?" + streamClause, [gid], lo: lo, hi: hi, names: names)
            return (names, metas, hot)
        }
        let (start, end, cursor) = (q.startTime, q.endTime, q.cursor)
        let scan = try await orderedScan(metas: metas, hot: hot.filter { matcher.matches($0.message.utf8) }, names: names,
                                         ascending: true, limit: q.limit, matcher: matcher) { ts, stream, seq in
            if let start, ts < start { return false }
            if let end, ts >= end { return false }
            if let cursor { return FilterCursor(timestamp: ts, streamID: stream, seq: seq) > cursor }
            return true
        }
        let next = scan.more ? scan.events.last.map { FilterCursor(timestamp: $0.timestamp, streamID: $0.streamID, seq: $0.seq).text } : nil
        return FilterPage(events: scan.events, nextToken: next, searchedStreams: names.values.sorted())
    }

    // MARK: the ordered scan

    struct ScanResult {
        var events: [StoredEvent]
        /// Whether events beyond `events` exist.
        var more: Bool
    }

    /// Returns the first `limit` events in (timestamp, stream, seq) order (or the last `limit`, newest first, when
    /// not `ascending`) among the hot events and the blocks in `metas` that pass `accept` and `matcher`.
    ///
    /// Blocks are read in chunks in time order and decoded in parallel; the scan stops once no remaining block can
    /// hold an event that sorts before the `limit`-th one found, and stops at 1 MB of message data.
    func orderedScan(metas: [BlockMeta], hot: [StoredEvent], names: [Int64: String], ascending: Bool, limit: Int,
                     matcher: CompiledFilterPattern?,
                     accept: @escaping @Sendable (_ ts: Int64, _ stream: Int64, _ seq: Int64) -> Bool) async throws -> ScanResult {
        func before(_ a: StoredEvent, _ b: StoredEvent) -> Bool {
            let ka = (a.timestamp, a.streamID, a.seq), kb = (b.timestamp, b.streamID, b.seq)
            return ascending ? ka < kb : ka > kb
        }
        var items = hot.filter { accept($0.timestamp, $0.streamID, $0.seq) }
        let ordered = ascending ? metas.sorted { $0.minTs < $1.minTs } : metas.sorted { $0.maxTs > $1.maxTs }
        let chunkSize = max(4, ProcessInfo.processInfo.activeProcessorCount * 4)
        var index = 0
        var stoppedEarly = false
        while index < ordered.count {
            if items.count >= limit {
                items.sort(by: before)
                items.removeLast(items.count - limit)
                let bound = items[limit - 1].timestamp
                let next = ordered[index]
                if ascending ? next.minTs > bound : next.maxTs < bound {
                    stoppedEarly = true
                    break
                }
            }
            let chunk = Array(ordered[index..<min(index + chunkSize, ordered.count)])
            index += chunk.count
            let blobs = try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, data FROM block WHERE id IN (\(chunk.map { String($0.id) }.joined(separator: ",")))")
                    .reduce(into: [Int64: Data]()) { $0[$1[0]] = $1[1] }
            }
            let decoded = try BlockScanner.scan(chunk, blobs: blobs, names: names, matcher: matcher, accept: accept)
            items.append(contentsOf: decoded)
        }
        items.sort(by: before)
        var more = stoppedEarly || items.count > limit
        if items.count > limit { items.removeLast(items.count - limit) }
        var bytes = 0
        for (i, event) in items.enumerated() {
            bytes += event.message.utf8.count + PutLogEventsPolicy.perEventOverhead
            if bytes > ReadLimits.maxResponseBytes && i > 0 {
                items.removeLast(items.count - i)
                more = true
                break
            }
        }
        return ScanResult(events: items, more: more)
    }

    static func hotEvents(_ db: Database, where clause: String, _ args: StatementArguments, lo: Int64, hi: Int64,
                          names: [Int64: String]) throws -> [StoredEvent] {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT stream_id, seq, ts, ingestion, message FROM hot_event WHERE \(clause) AND ts >= ? AND ts < ?
            """, arguments: args + [lo, hi])
        var events: [StoredEvent] = []
        while let row = try rows.next() {
            let sid: Int64 = row[0]
            guard let name = names[sid] else { continue }
            let message = try row.withUnsafeData(atIndex: 4) { data in String(decoding: data ?? Data(), as: UTF8.self) }
            events.append(StoredEvent(stream: name, streamID: sid, seq: row[1], timestamp: row[2], ingestionTime: row[3], message: message))
        }
        return events
    }
}

/// The index entry of a block: enough to decide whether to read it.
struct BlockMeta: Sendable {
    var id: Int64
    var streamID: Int64
    var minTs: Int64
    var maxTs: Int64
    var baseSeq: Int64
    var count: Int

    static func fetch(_ db: Database, where clause: String, _ args: StatementArguments, lo: Int64, hi: Int64) throws -> [BlockMeta] {
        try Row.fetchAll(db, sql: """
            SELECT id, stream_id, min_ts, max_ts, base_seq, count FROM block
            WHERE \(clause) AND min_ts < ? AND max_ts >= ?
            """, arguments: args + [hi, lo]).map {
            BlockMeta(id: $0[0], streamID: $0[1], minTs: $0[2], maxTs: $0[3], baseSeq: $0[4], count: $0[5])
        }
    }
}
