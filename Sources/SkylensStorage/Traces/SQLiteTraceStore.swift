import Foundation
import GRDB
import SkylensCore

/// The SQLite implementation of the `TraceStore` port.
///
/// Documents are kept as sent, compressed in blocks (the log store's block codec, one block per commit); each
/// trace has one row of ``TraceFacts`` (its summary, recomputed from the assembled trace whenever a document of it
/// arrives) and index terms (annotation values, service names) so that summaries and filter expressions read facts
/// of candidate traces only, never documents. The service map is a table of per-minute counts and latency
/// histograms per service and per edge, changed by each trace's difference in the same commit.
package final class SQLiteTraceStore: TraceStore {
    package let database: SkylensDatabase
    /// Recently written traces, so a trace's next document does not read its earlier ones back from blocks.
    private let cache = LockedState(TraceCache(capacity: 20_000))

    package init(database: SkylensDatabase) { self.database = database }

    struct Document {
        var id: String
        var text: String
        var segment: Segment
        /// Its position in the block it is stored in.
        var position: Int
    }

    struct CachedTrace {
        var documents: [Document]
        var facts: TraceFacts
    }

    struct TraceCache {
        let capacity: Int
        var traces: [String: CachedTrace] = [:]
        var order: [String] = []
        var head = 0

        mutating func put(_ id: String, _ trace: CachedTrace) {
            if traces.updateValue(trace, forKey: id) == nil {
                order.append(id)
                if traces.count > capacity {
                    traces[order[head]] = nil
                    head += 1
                    if head > capacity {
                        order.removeFirst(head)
                        head = 0
                    }
                }
            }
        }
    }

    // MARK: Writing

    package func append(_ documents: [SegmentDocument], now: Int64) async throws {
        guard !documents.isEmpty else { return }
        let cache = self.cache
        let written: [String: CachedTrace] = try await database.pool.write { db in
            // Which stored trace each document belongs to: its own, or the one an async link joined it to.
            var aliases = try Self.aliases(db, Array(Set(documents.map(\.segment.traceID))))
            var groups: [String: [Document]] = [:]
            var order: [String] = []
            for (position, d) in documents.enumerated() {
                var traceID = aliases[d.segment.traceID] ?? d.segment.traceID
                if d.segment.parentID == nil, traceID == d.segment.traceID,
                   let link = d.segment.links.first(where: { $0.traceID != d.segment.traceID }) {
                    let target = try aliases[link.traceID] ?? Self.aliases(db, [link.traceID])[link.traceID] ?? link.traceID
                    let stored = try Bool.fetchOne(db, sql: "SELECT 1 FROM trace WHERE trace_id = ?", arguments: [target]) ?? false
                    let known = groups[target] != nil || cache.withLock({ $0.traces[target] }) != nil || stored
                    if known, target != traceID {
                        try db.execute(sql: "INSERT OR REPLACE INTO trace_alias (trace_id, root_trace_id) VALUES (?, ?)",
                                       arguments: [traceID, target])
                        aliases[traceID] = target
                        traceID = target
                    }
                }
                if groups[traceID] == nil { order.append(traceID) }
                groups[traceID, default: []].append(Document(id: d.segment.id, text: d.text, segment: d.segment, position: position))
            }

            // One block holds this commit's documents.
            var columns = BlockCodec.Columns()
            for d in documents {
                columns.timestamps.append(Int64(d.segment.startTime * 1000))
                columns.ingestionTimes.append(now)
                columns.seqOffsets.append(Int64(columns.seqOffsets.count))
                columns.bytes.append(contentsOf: d.text.utf8)
                columns.offsets.append(columns.bytes.count)
            }
            let block = try BlockCodec.encode(columns, level: 6)
            try db.execute(sql: "INSERT INTO trace_block (created, bytes) VALUES (?, ?)", arguments: [now, Data(block.bytes)])
            let blockID = db.lastInsertedRowID
            // Which traces already have facts stored (one query for those not in the cache).
            let cached = cache.withLock { c in order.compactMap { id in c.traces[id].map { (id, $0) } } }
            var previous = Dictionary(cached, uniquingKeysWith: { a, _ in a })
            let unknown = order.filter { previous[$0] == nil }
            for start in stride(from: 0, to: unknown.count, by: 500) {
                let chunk = Array(unknown[start..<min(start + 500, unknown.count)])
                for id in try String.fetchAll(db, sql: "SELECT trace_id FROM trace WHERE trace_id IN (\(Self.placeholders(chunk.count)))",
                                              arguments: StatementArguments(chunk)) {
                    previous[id] = try Self.loadTrace(db, id)
                }
            }

            var graph: [GraphSample] = [], removed: [GraphSample] = []
            var written: [String: CachedTrace] = [:]
            let putSegment = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO trace_segment (trace_id, id, in_progress, block_id, position) VALUES (?, ?, ?, ?, ?)
                """)
            for traceID in order {
                let before = previous[traceID]
                var docs = before?.documents ?? []
                for d in groups[traceID]! {
                    if let i = docs.firstIndex(where: { $0.id == d.id }) {
                        // A completed version replaces an in-progress one; an in-progress one never replaces a completed one.
                        if d.segment.inProgress && !docs[i].segment.inProgress { continue }
                        docs.remove(at: i)
                    }
                    docs.append(d)
                    try putSegment.execute(arguments: [traceID, d.id, d.segment.inProgress, blockID, d.position])
                }
                let facts = TraceFacts(TraceAssembler.assemble(id: traceID, documents: docs.map(\.segment)))
                graph += facts.graph
                removed += before?.facts.graph ?? []
                try Self.writeFacts(db, facts, previous: before?.facts)
                written[traceID] = CachedTrace(documents: docs, facts: facts)
            }
            try Self.applyGraph(db, ServiceGraphDelta.rows(adding: graph, removing: removed))
            return written
        }
        cache.withLock { c in for (id, t) in written { c.put(id, t) } }
    }

    private static func aliases(_ db: Database, _ ids: [String]) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let rows = try Row.fetchAll(db, sql: "SELECT trace_id, root_trace_id FROM trace_alias WHERE trace_id IN (\(placeholders(chunk.count)))",
                                        arguments: StatementArguments(chunk))
            for r in rows { out[r[0]] = r[1] }
        }
        return out
    }

    static func facts(_ blob: Data) throws -> TraceFacts {
        try blob.withUnsafeBytes { buffer throws(StorageError) in try TraceFactsCodec.decode(buffer) }
    }

    static func placeholders(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ",") }

    private static func writeFacts(_ db: Database, _ f: TraceFacts, previous: TraceFacts?) throws {
        let blob = Data(TraceFactsCodec.encode(f))
        let traceTime = TraceIdentifiers.epochSeconds(ofTraceID: f.id) ?? Int64(f.startTime)
        try db.execute(sql: """
            INSERT OR REPLACE INTO trace (trace_id, start, end, trace_time, facts) VALUES (?, ?, ?, ?, ?)
            """, arguments: [f.id, f.startTime, f.endTime, traceTime, blob])
        // Index terms are rewritten only when they (or the trace's start, which they carry) changed.
        let terms = indexTerms(f)
        if let previous, previous.startTime == f.startTime, indexTerms(previous) == terms { return }
        if previous != nil { try db.execute(sql: "DELETE FROM trace_term WHERE trace_id = ?", arguments: [f.id]) }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO trace_term (term, start, trace_id) VALUES (?, ?, ?)")
        for t in terms { try insert.execute(arguments: [t, f.startTime, f.id]) }
    }

    /// A trace's index terms: each annotation value (typed) and each service name.
    private static func indexTerms(_ f: TraceFacts) -> Set<String> {
        var terms = Set(f.annotations.map { term(.annotation(key: $0.key, value: $0.value)) })
        for s in f.services { terms.insert(term(.service(name: s.id.name))) }
        return terms
    }

    private static func applyGraph(_ db: Database, _ rows: [ServiceGraphRow]) throws {
        for row in rows {
            let source = row.source.map(serviceKey) ?? "", destination = serviceKey(row.destination)
            var stats = try Row.fetchOne(db, sql: """
                SELECT ok, error, throttle, fault, total_ms, histogram FROM service_stat WHERE minute = ? AND source = ? AND destination = ?
                """, arguments: [row.minute, source, destination]).map { Self.statistics($0, from: 0) } ?? ServiceStatistics()
            stats.merge(row.statistics)
            if stats.total <= 0 {
                try db.execute(sql: "DELETE FROM service_stat WHERE minute = ? AND source = ? AND destination = ?",
                               arguments: [row.minute, source, destination])
                continue
            }
            let histogram = stats.histogram.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
            try db.execute(sql: """
                INSERT OR REPLACE INTO service_stat (minute, source, destination, ok, error, throttle, fault, total_ms, histogram)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [row.minute, source, destination, stats.ok, stats.error, stats.throttle, stats.fault,
                                 stats.totalResponseTimeMillis, histogram])
        }
    }

    static func serviceKey(_ id: ServiceID) -> String { id.name + "\u{1F}" + id.type }

    static func serviceID(_ key: String) -> ServiceID {
        let parts = key.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
        return ServiceID(name: String(parts[0]), type: parts.count > 1 ? String(parts[1]) : "")
    }

    /// ok, error, throttle, fault, total_ms, histogram from column `i` on.
    private static func statistics(_ row: Row, from i: Int) -> ServiceStatistics {
        var s = ServiceStatistics()
        s.ok = row[i]
        s.error = row[i + 1]
        s.throttle = row[i + 2]
        s.fault = row[i + 3]
        s.totalResponseTimeMillis = row[i + 4]
        for pair in (row[i + 5] as String).split(separator: ",") {
            let kv = pair.split(separator: ":")
            if kv.count == 2, let k = Int64(kv[0]), let v = Int64(kv[1]) { s.histogram[k] = v }
        }
        return s
    }

    // MARK: Reading

    private static func loadTrace(_ db: Database, _ traceID: String) throws -> CachedTrace? {
        guard let blob = try Data.fetchOne(db, sql: "SELECT facts FROM trace WHERE trace_id = ?", arguments: [traceID]) else {
            return nil
        }
        let facts = try Self.facts(blob)
        var documents: [Document] = []
        for (id, text, position) in try documentTexts(db, traceID) {
            let segment = try text.utf8.withContiguousStorageIfAvailable { try Segment.parse(UnsafeRawBufferPointer($0), nowSeconds: 0) }
                ?? Segment.parse(JSONValue.parse(text), nowSeconds: 0)
            documents.append(Document(id: id, text: text, segment: segment, position: position))
        }
        return CachedTrace(documents: documents, facts: facts)
    }

    /// The documents of a trace as stored, in arrival order.
    private static func documentTexts(_ db: Database, _ traceID: String) throws -> [(id: String, text: String, position: Int)] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT s.id, s.block_id, s.position FROM trace_segment s WHERE s.trace_id = ? ORDER BY s.block_id, s.position
            """, arguments: [traceID])
        var blocks: [Int64: BlockCodec.Columns] = [:]
        var out: [(id: String, text: String, position: Int)] = []
        for row in rows {
            let blockID: Int64 = row[1]
            if blocks[blockID] == nil {
                guard let bytes = try Data.fetchOne(db, sql: "SELECT bytes FROM trace_block WHERE id = ?", arguments: [blockID]) else { continue }
                blocks[blockID] = try bytes.withUnsafeBytes { try BlockCodec.decode($0) }
            }
            let c = blocks[blockID]!
            let i: Int = row[2]
            out.append((row[0], String(decoding: c.bytes[c.offsets[i]..<c.offsets[i + 1]], as: UTF8.self), i))
        }
        return out
    }

    package func traces(ids: [String]) async throws -> [StoredTrace] {
        try await database.pool.read { db in
            let aliases = try Self.aliases(db, ids)
            var out: [StoredTrace] = []
            var seen = Set<String>()
            for id in ids {
                let traceID = aliases[id] ?? id
                guard seen.insert(traceID).inserted,
                      let blob = try Data.fetchOne(db, sql: "SELECT facts FROM trace WHERE trace_id = ?", arguments: [traceID])
                else { continue }
                let facts = try Self.facts(blob)
                out.append(StoredTrace(facts: facts, documents: try Self.documentTexts(db, traceID).map { ($0.id, $0.text) }))
            }
            return out
        }
    }

    package func summaries(start: Double, end: Double, range: TraceTimeRange, filter: FilterExpression?, after token: String?,
                           limit: Int) async throws -> TraceSummaryPage {
        let terms = filter?.indexTerms ?? []
        // Resume after the last trace of the previous page: (start, trace id).
        let (afterStart, afterID) = Self.position(token)
        // Traces are read in order of their start; the range type then decides which count. A trace that started
        // before the window can still have events or an id time in it: those are looked for up to an hour back.
        let lower = range == .service ? start : start - 3600, upper = end
        return try await database.pool.read { db in
            var sql: String
            var arguments: StatementArguments
            if let first = terms.first {
                sql = "SELECT t.trace_id, t.start, t.end, t.trace_time, t.facts FROM trace_term x JOIN trace t ON t.trace_id = x.trace_id WHERE x.term = ? AND x.start >= ? AND x.start <= ?"
                arguments = [Self.term(first), max(lower, afterStart), upper]
                for other in terms.dropFirst() {
                    sql += " AND EXISTS (SELECT 1 FROM trace_term y WHERE y.term = ? AND y.start = t.start AND y.trace_id = t.trace_id)"
                    arguments += [Self.term(other)]
                }
                sql += " ORDER BY x.start, x.trace_id"
            } else {
                sql = "SELECT t.trace_id, t.start, t.end, t.trace_time, t.facts FROM trace t WHERE t.start >= ? AND t.start <= ? ORDER BY t.start, t.trace_id"
                arguments = [max(lower, afterStart), upper]
            }
            var page = TraceSummaryPage(summaries: [], processed: 0, nextToken: nil)
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try cursor.next() {
                let traceID: String = row[0], traceStart: Double = row[1], traceEnd: Double = row[2], traceTime: Int64 = row[3]
                if traceStart < afterStart || (traceStart == afterStart && traceID <= afterID) { continue }
                let inRange: Bool = switch range {
                case .traceID: Double(traceTime) >= start && Double(traceTime) <= end
                case .event: traceEnd >= start && traceStart <= end
                case .service: traceStart >= start && traceStart <= end
                }
                guard inRange else { continue }
                page.processed += 1
                let facts = try Self.facts(row[4] as Data)
                guard filter?.matches(facts) ?? true else { continue }
                if page.summaries.count == limit {
                    let last = page.summaries[page.summaries.count - 1]
                    page.nextToken = "\(last.startTime)|\(last.id)"
                    page.processed -= 1
                    break
                }
                page.summaries.append(facts)
            }
            return page
        }
    }

    /// A page token: the (start, trace id) of the previous page's last trace.
    private static func position(_ token: String?) -> (Double, String) {
        guard let token, let bar = token.firstIndex(of: "|"), let s = Double(token[..<bar]) else { return (-Double.infinity, "") }
        return (s, String(token[token.index(after: bar)...]))
    }

    static func term(_ t: TraceIndexTerm) -> String {
        switch t {
        case .annotation(let key, let value): "a:" + key + "=" + value.indexKey
        case .service(let name): "s:" + name
        }
    }

    package func serviceGraph(start: Double, end: Double) async throws -> [ServiceGraphRow] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT minute, source, destination, ok, error, throttle, fault, total_ms, histogram FROM service_stat
                WHERE minute >= ? AND minute < ? ORDER BY minute
                """, arguments: [Int64((start / 60).rounded(.down)) * 60, end]).map { row in
                let source: String = row[1]
                return ServiceGraphRow(minute: row[0], source: source.isEmpty ? nil : Self.serviceID(source),
                                       destination: Self.serviceID(row[2]), statistics: Self.statistics(row, from: 3))
            }
        }
    }

    // MARK: Logs and retention

    package func addLogReferences(_ references: [TraceLogReference]) async throws {
        guard !references.isEmpty else { return }
        try await database.pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO trace_log (trace_id, log_group, log_stream, timestamp) VALUES (?, ?, ?, ?)
                """)
            for r in references { try insert.execute(arguments: [r.traceID, r.logGroup, r.logStream, r.timestamp]) }
        }
    }

    package func logReferences(traceIDs: [String]) async throws -> [TraceLogReference] {
        guard !traceIDs.isEmpty else { return [] }
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT trace_id, log_group, log_stream, timestamp FROM trace_log WHERE trace_id IN (\(Self.placeholders(traceIDs.count)))
                ORDER BY timestamp
                """, arguments: StatementArguments(traceIDs)).map {
                TraceLogReference(traceID: $0[0], logGroup: $0[1], logStream: $0[2], timestamp: $0[3])
            }
        }
    }

    package func deleteTraces(before: Double) async throws -> Int {
        let deleted = try await database.pool.write { db -> Int in
            let ids = try String.fetchAll(db, sql: "SELECT trace_id FROM trace WHERE end < ?", arguments: [before])
            for id in ids {
                try db.execute(sql: "DELETE FROM trace_segment WHERE trace_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM trace_term WHERE trace_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM trace_alias WHERE root_trace_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM trace WHERE trace_id = ?", arguments: [id])
            }
            try db.execute(sql: "DELETE FROM trace_block WHERE created < ? AND id NOT IN (SELECT block_id FROM trace_segment)",
                           arguments: [Int64(before * 1000)])
            try db.execute(sql: "DELETE FROM service_stat WHERE minute < ?", arguments: [Int64(before)])
            try db.execute(sql: "DELETE FROM trace_log WHERE timestamp < ?", arguments: [Int64(before * 1000)])
            return ids.count
        }
        if deleted > 0 { cache.withLock { $0 = TraceCache(capacity: $0.capacity) } }
        return deleted
    }
}
