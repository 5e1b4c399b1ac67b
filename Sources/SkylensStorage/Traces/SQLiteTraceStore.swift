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
///
/// Index terms are posting lists (``TracePostings``): a commit journals which traces it gave new terms, and their
/// entries are written a term and ten-second bucket to a row (every second by the maintenance loop, within a commit
/// once `postingLimit` entries are gathered, and before any summary that narrows by terms). The id index
/// (`trace_by_id`) is deferred alike: a new trace's row is found by its id in ``UnindexedTraces`` until the ids
/// gathered there are written in key order (with the postings by the maintenance loop, by the commit that brings them
/// to `unindexedLimit`, and before retention).
package final class SQLiteTraceStore: TraceStore {
    package let database: SkylensDatabase
    /// Recently written traces, so a trace's next document does not read its earlier ones back from blocks.
    private let cache = LockedState(TraceCache(capacity: 20_000))
    /// Index entries of committed traces not yet in `trace_posting`.
    private let postings: TracePostings
    /// Gathered index entries beyond which a commit writes them itself.
    let postingLimit: Int
    /// Trace rows not yet in `trace_by_id`.
    private let unindexed: UnindexedTraces
    /// Unindexed traces beyond which a commit writes their ids to `trace_by_id` itself.
    let unindexedLimit: Int

    package init(database: SkylensDatabase, postingLimit: Int = 100_000, unindexedLimit: Int = 50_000) {
        self.database = database
        postings = TracePostings(observing: database.pool)
        unindexed = UnindexedTraces(observing: database.pool)
        self.postingLimit = postingLimit
        self.unindexedLimit = unindexedLimit
    }

    /// A document of a trace as the append path needs it: parsed, and where its text is (the text itself is read
    /// back from its block only by BatchGetTraces).
    struct Document {
        var segment: Segment
        /// Where its text is stored: a block and the position in it.
        var block: Int64
        var position: Int
    }

    struct CachedTrace {
        /// Its row in `trace` (index terms refer to it by this rowid, which an update keeps).
        var row: Int64
        var documents: [Document]
        /// Its facts as stored: decoded only when another document of the trace arrives (most traces are complete
        /// within one commit), and one array instead of the many a `TraceFacts` holds.
        var facts: [UInt8]

        func decodedFacts() throws -> TraceFacts {
            try facts.withUnsafeBytes { buffer throws(StorageError) in try TraceFactsCodec.decode(buffer) }
        }
    }

    struct TraceCache {
        let capacity: Int
        var traces: [TraceKey: CachedTrace] = [:]
        var order: [TraceKey] = []
        var head = 0

        mutating func put(_ key: TraceKey, _ trace: CachedTrace) {
            if traces.updateValue(trace, forKey: key) == nil {
                order.append(key)
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
        let written = try await write(documents, now: now, cache: cache)
        cache.withLock { c in for (key, t) in written { c.put(key, t) } }
    }

    /// Writes a batch's documents in one transaction; returns each trace written (once) as the cache keeps it.
    private func write(_ documents: [SegmentDocument], now: Int64, cache: LockedState<TraceCache>) async throws -> [(key: TraceKey, trace: CachedTrace)] {
        try await database.pool.write { db in
            // Which stored trace each document belongs to: its own, or the one an async link joined it to.
            // (Async links are rare: without any alias stored, the ids are not looked up.)
            let anyAlias = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM trace_alias)")) ?? false
            var aliases = anyAlias ? try Self.aliases(db, Array(Set(documents.map(\.traceID)))) : [:]
            // A trace id's row: one not yet in the id index, or through it.
            let (unindexedRows, lastRow) = try self.unindexed.rows(db)
            func storedRow(_ key: TraceKey) throws -> Int64? { try UnindexedTraces.row(of: key, unindexed: unindexedRows, db) }
            // Each trace's number (in order of first appearance), its id, and each document's trace number. Traces are
            // told apart by their keys (two words hashed and compared instead of 35 characters): a document's own, or
            // that of the trace it is joined to.
            var traces = Numbering<TraceKey>(capacity: documents.count)
            var ids: [String] = []
            var groupOf: [Int] = []
            groupOf.reserveCapacity(documents.count)
            func key(_ traceID: String) throws -> TraceKey {
                guard let key = TraceKey(traceID) else { throw StorageError(.invalid, "invalid trace id \(traceID)") }
                return key
            }
            // (The documents are read in place, by index: this pass and the next read only the documents' own fields.)
            for i in documents.indices {
                var traceID = (aliases.isEmpty ? nil : aliases[documents[i].traceID]) ?? documents[i].traceID
                if documents[i].linksAnotherTrace, traceID == documents[i].traceID,
                   let link = documents[i].segment.links.first(where: { $0.traceID != documents[i].traceID }) {
                    let target = try aliases[link.traceID] ?? Self.aliases(db, [link.traceID])[link.traceID] ?? link.traceID
                    let targetKey = try key(target)
                    let known = try traces.existing(targetKey) != nil || cache.withLock({ $0.traces[targetKey] }) != nil
                        || storedRow(targetKey) != nil
                    if known, target != traceID {
                        try db.execute(sql: "INSERT OR REPLACE INTO trace_alias (trace_id, root_trace_id) VALUES (?, ?)",
                                       arguments: [traceID, target])
                        aliases[traceID] = target
                        traceID = target
                    }
                }
                let own = traceID == documents[i].traceID ? documents[i].traceKey : nil
                let number = traces.number(try own ?? key(traceID))
                if number == ids.count { ids.append(traceID) }
                groupOf.append(number)
            }
            let order = traces.values
            // The documents' positions by trace, in arrival order within each (a counting sort): trace g's are
            // `grouped[starts[g] ..< starts[g + 1]]`.
            var starts = [Int](repeating: 0, count: order.count + 1)
            for g in groupOf { starts[g + 1] += 1 }
            for g in order.indices { starts[g + 1] += starts[g] }
            var grouped = [Int](repeating: 0, count: documents.count)
            var next = starts
            for (position, g) in groupOf.enumerated() {
                grouped[next[g]] = position
                next[g] += 1
            }

            // One block holds this commit's documents.
            var columns = BlockCodec.Columns()
            columns.timestamps.reserveCapacity(documents.count)
            columns.ingestionTimes.reserveCapacity(documents.count)
            columns.seqOffsets.reserveCapacity(documents.count)
            columns.offsets.reserveCapacity(documents.count + 1)
            columns.bytes.reserveCapacity(documents.reduce(0) { $0 + $1.text.count })
            for i in documents.indices {
                columns.timestamps.append(documents[i].startMillis)
                columns.ingestionTimes.append(now)
                columns.seqOffsets.append(Int64(columns.seqOffsets.count))
                columns.bytes.append(contentsOf: documents[i].text)
                columns.offsets.append(columns.bytes.count)
            }
            // zstd at level 1: trace blocks are written on the ingest path and read rarely (BatchGetTraces); it takes
            // about a third of libdeflate's level-1 time on X-Ray documents, and writes smaller blocks.
            let block = try BlockCodec.encode(columns, compression: .zstd(level: 1))
            let insertBlock = try db.cachedStatement(sql: "INSERT INTO trace_block (created, bytes) VALUES (?, ?)")
            insertBlock.bind(1, now)
            try block.bytes.withUnsafeBytes { bytes in
                insertBlock.bind(2, blob: bytes)
                try insertBlock.step(db)
            }
            let blockID = db.lastInsertedRowID
            // Which traces already have facts stored: those in the cache, and those not in it that have a row (most
            // are new: probed one by one).
            // (By trace number: `order` holds each trace once.)
            var previous = cache.withLock { c in order.map { c.traces[$0] } }
            for (g, key) in order.enumerated() where previous[g] == nil {
                guard let rowid = try storedRow(key),
                      let row = try Row.fetchOne(db, sql: "SELECT facts, segments FROM trace WHERE rowid = ?", arguments: [rowid])
                else { continue }
                previous[g] = try Self.cachedTrace(db, row: rowid, facts: row[0], references: row[1])
            }

            // The service map's change: each trace's samples folded in as it is written.
            var graph = ServiceGraphDelta()
            var written: [(key: TraceKey, trace: CachedTrace)] = []
            written.reserveCapacity(order.count)
            var posted: [TracePostings.Posting] = []
            var postedTraces: [Int64] = []
            var added: [(key: TraceKey, row: Int64)] = []
            var newRows = NewTraceRows(after: lastRow)
            var references: [UInt8] = []
            for (g, key) in order.enumerated() {
                let traceID = ids[g]
                let before = previous[g]
                let beforeFacts = try before?.decodedFacts()
                var docs = before?.documents ?? []
                docs.reserveCapacity(docs.count + starts[g + 1] - starts[g])
                for position in grouped[starts[g]..<starts[g + 1]] {
                    let d = Document(segment: documents[position].segment, block: blockID, position: position)
                    if let i = docs.firstIndex(where: { $0.segment.key == d.segment.key }) {
                        // A completed version replaces an in-progress one; an in-progress one never replaces a completed one.
                        if d.segment.inProgress && !docs[i].segment.inProgress { continue }
                        docs.remove(at: i)
                    }
                    docs.append(d)
                }
                var facts = TraceFacts(id: traceID)
                facts.summarize(TraceAssembler.assemble(id: traceID, documents: docs.map(\.segment)))
                graph.add(facts.graph, sign: 1)
                if let beforeFacts { graph.add(beforeFacts.graph, sign: -1) }
                let (row, encoded) = try Self.writeTrace(db, facts, key: key, row: before?.row, documents: docs,
                                                         previous: beforeFacts, postings: &posted, postedTraces: &postedTraces,
                                                         newRows: &newRows, references: &references)
                if before == nil { added.append((key, row)) }
                written.append((key, CachedTrace(row: row, documents: docs, facts: encoded)))
            }
            try newRows.insert(db)
            try Self.applyGraph(db, graph.changedRows)
            try self.postings.add(db, posted, traces: postedTraces)
            if self.postings.count >= postingLimit { try self.postings.flush(db) }
            if self.unindexed.add(added) >= unindexedLimit { try self.unindexed.apply(db, unindexedRows) }
            return written
        }
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

    /// A commit's new trace rows, inserted ``rowsPerInsert`` to a statement: SQLite keeps its cursors from one row
    /// of a statement to the next, where a single-row INSERT descended the `trace_by_start` index from its root
    /// (half of the insert's time). Their rowids are given here, in ascending order after the table's last one at the
    /// transaction's start (as SQLite would give them), so that each trace's row is known before it is inserted. Their bytes (facts,
    /// references, id) are gathered end to end and bound in place.
    struct NewTraceRows {
        private struct Row {
            var rowid: Int64
            var start, end: Double
            var traceTime: Int64
            var facts, references, id: Range<Int>
        }

        private var next: Int64
        private var rows: [Row] = []
        private var bytes: [UInt8] = []

        init(after lastRow: Int64) {
            next = lastRow + 1
            rows.reserveCapacity(rowsPerInsert)
            bytes.reserveCapacity(rowsPerInsert * 1024)
        }

        /// Adds a row (inserting the rows gathered once there are ``rowsPerInsert``); returns its rowid.
        mutating func add(_ db: Database, start: Double, end: Double, traceTime: Int64, facts: [UInt8], references: [UInt8],
                          id: String) throws -> Int64 {
            func append(_ part: some Collection<UInt8>) -> Range<Int> {
                let first = bytes.count
                bytes.append(contentsOf: part)
                return first..<bytes.count
            }
            let rowid = next
            next += 1
            rows.append(Row(rowid: rowid, start: start, end: end, traceTime: traceTime, facts: append(facts),
                            references: append(references), id: append(id.utf8)))
            if rows.count == rowsPerInsert { try insert(db) }
            return rowid
        }

        /// Inserts the rows gathered.
        mutating func insert(_ db: Database) throws {
            guard !rows.isEmpty else { return }
            let rows = self.rows
            try bytes.withUnsafeBytes { bytes in
                try insertRows(db, into: "trace (rowid, start, end, trace_time, facts, segments, trace_id)", count: rows.count,
                               columns: 7, onConflict: .fail) { statement, i, first in
                    let r = rows[i]
                    statement.bind(first, r.rowid)
                    statement.bind(first + 1, r.start)
                    statement.bind(first + 2, r.end)
                    statement.bind(first + 3, r.traceTime)
                    statement.bind(first + 4, staticBlob: UnsafeRawBufferPointer(rebasing: bytes[r.facts]))
                    statement.bind(first + 5, staticText: UnsafeRawBufferPointer(rebasing: bytes[r.references]))
                    statement.bind(first + 6, staticText: UnsafeRawBufferPointer(rebasing: bytes[r.id]))
                }
            }
            self.rows.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// Writes a trace's row (facts, and where each of its documents is: a new row, gathered in `newRows`, or `row`
    /// updated in place so that its rowid stays what the index refers to) and the index entries of its new terms
    /// (its rowid in `postedTraces` when there are any); returns the rowid and the facts as encoded. `refs` is room for
    /// the references' text, reused trace after trace.
    private static func writeTrace(_ db: Database, _ f: TraceFacts, key: TraceKey, row existing: Int64?,
                                   documents: [Document], previous: TraceFacts?, postings: inout [TracePostings.Posting],
                                   postedTraces: inout [Int64], newRows: inout NewTraceRows,
                                   references refs: inout [UInt8]) throws -> (Int64, [UInt8]) {
        let traceTime = key.epochSeconds
        // The references' text, `id:inProgress:block:position` joined by `;`, written as bytes.
        refs.removeAll(keepingCapacity: true)
        refs.reserveCapacity(documents.count * 40)
        for d in documents {
            if !refs.isEmpty { refs.append(UInt8(ascii: ";")) }
            d.segment.key.appendHex(to: &refs)
            refs.append(UInt8(ascii: ":"))
            refs.append(UInt8(ascii: d.segment.inProgress ? "1" : "0"))
            refs.append(UInt8(ascii: ":"))
            appendDecimal(UInt64(d.block), to: &refs)
            refs.append(UInt8(ascii: ":"))
            appendDecimal(UInt64(d.position), to: &refs)
        }
        let encoded = TraceFactsCodec.encode(f)
        let row: Int64
        if let existing {
            // The facts and references are bound where they are (not copied by SQLite) for the step. (Updates are
            // rare, traces continued in a later commit: the statement is looked up when one is.)
            let statement = try db.cachedStatement(sql: "UPDATE trace SET start = ?, end = ?, trace_time = ?, facts = ?, segments = ? WHERE rowid = ?")
            statement.bind(1, f.startTime)
            statement.bind(2, f.endTime)
            statement.bind(3, traceTime)
            try encoded.withUnsafeBytes { facts in
                try refs.withUnsafeBytes { refs in
                    defer { statement.clearBindings() }
                    statement.bind(4, staticBlob: facts)
                    statement.bind(5, staticText: refs)
                    statement.bind(6, existing)
                    try statement.step(db)
                }
            }
            row = existing
        } else {
            row = try newRows.add(db, start: f.startTime, end: f.endTime, traceTime: traceTime, facts: encoded, references: refs, id: f.id)
        }
        // A trace needs entries for the terms it did not have, or all of them when its start (which they carry)
        // moved; the entries it had stay, passed over by readers.
        var terms = TracePostings.terms(f)
        if let previous, previous.startTime == f.startTime {
            let old = TracePostings.terms(previous)
            terms.removeAll { old.contains($0) }
        }
        guard !terms.isEmpty else { return (row, encoded) }
        for t in terms { postings.append((t, TracePostings.Entry(start: f.startTime, trace: row))) }
        postedTraces.append(row)
        return (row, encoded)
    }

    private static func appendDecimal(_ n: Int64, to out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(n.magnitude, to: &out)
    }

    private static func appendDecimal(_ n: UInt64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = n, first = 20
            repeat {
                first -= 1
                digits[first] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[first...]))
        }
    }

    // MARK: Deferred index writes

    /// Rows inserted by one statement when deferred index changes are written (SQLite's per-statement cost is then
    /// paid once for many rows).
    static let rowsPerInsert = 50

    /// What an insert of a row whose key is there does.
    enum OnConflict: String {
        /// Skips the row.
        case ignore = "INSERT OR IGNORE INTO "
        /// Replaces the row that is there.
        case replace = "INSERT OR REPLACE INTO "
        /// Fails (the statement, and the transaction with it).
        case fail = "INSERT INTO "
    }

    /// Inserts `count` rows into `table` (named with its columns), `rowsPerInsert` to a statement, doing `onConflict`
    /// with a row whose key is there; `bind` binds row `i`'s `columns` values from parameter `first`.
    static func insertRows(_ db: Database, into table: String, count: Int, columns: Int, onConflict: OnConflict = .ignore,
                           bind: (_ statement: Statement, _ i: Int, _ first: Int32) -> Void) throws {
        let insert = onConflict.rawValue
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        let many = try db.cachedStatement(sql: insert + table + " VALUES " + Array(repeating: row, count: rowsPerInsert).joined(separator: ", "))
        let one = try db.cachedStatement(sql: insert + table + " VALUES " + row)
        var i = 0
        while count - i >= rowsPerInsert {
            for r in 0..<rowsPerInsert { bind(many, i + r, Int32(columns * r + 1)) }
            try many.step(db)
            i += rowsPerInsert
        }
        for k in i..<count {
            bind(one, k, 1)
            try one.step(db)
        }
        many.clearBindings()
        one.clearBindings()
    }

    /// Writes the gathered index entries and the ids of unindexed traces, if there may be any: one transaction (one
    /// commit to sync) for both.
    package func flushIndex() async throws {
        let posts = postings.mayHoldAny, ids = unindexed.mayHoldAny
        guard posts || ids else { return }
        try await database.pool.write { db in
            if posts { try self.postings.flush(db) }
            if ids { try self.unindexed.applyAll(db) }
        }
    }

    /// A trace's document references, `id:inProgress:block:position` joined by `;`.
    static func references(_ text: String) -> [(id: String, inProgress: Bool, block: Int64, position: Int)] {
        text.split(separator: ";").compactMap { ref in
            let p = ref.split(separator: ":")
            guard p.count == 4, let block = Int64(p[2]), let position = Int(p[3]) else { return nil }
            return (String(p[0]), p[1] == "1", block, position)
        }
    }

    /// Adds a commit's service-map changes to `service_stat` (statements prepared once per connection: a commit
    /// changes a few dozen rows, and preparing their SQL each time cost more than running it).
    private static func applyGraph(_ db: Database, _ rows: [ServiceGraphRow]) throws {
        guard !rows.isEmpty else { return }
        let select = try db.cachedStatement(sql: """
            SELECT ok, error, throttle, fault, total_ms, histogram FROM service_stat WHERE minute = ? AND source = ? AND destination = ?
            """)
        let delete = try db.cachedStatement(sql: "DELETE FROM service_stat WHERE minute = ? AND source = ? AND destination = ?")
        let upsert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO service_stat (minute, source, destination, ok, error, throttle, fault, total_ms, histogram)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var histogram: [UInt8] = []
        for row in rows {
            let source = row.source.map(serviceKey) ?? "", destination = serviceKey(row.destination)
            for statement in [select, delete, upsert] {
                statement.bind(1, row.minute)
                statement.bind(2, source)
                statement.bind(3, destination)
            }
            var stats = try select.firstRow(db) { c in
                Self.statistics(counts: { c.int64(Int32($0)) }, histogram: Self.histogram(c.text(5)))
            } ?? ServiceStatistics()
            stats.merge(row.statistics)
            if stats.total <= 0 {
                try delete.step(db)
                continue
            }
            // `ms:count` pairs by response time, joined by commas.
            histogram.removeAll(keepingCapacity: true)
            for (ms, count) in stats.histogram.sorted(by: { $0.key < $1.key }) {
                if !histogram.isEmpty { histogram.append(UInt8(ascii: ",")) }
                appendDecimal(ms, to: &histogram)
                histogram.append(UInt8(ascii: ":"))
                appendDecimal(count, to: &histogram)
            }
            for (i, n) in [stats.ok, stats.error, stats.throttle, stats.fault, stats.totalResponseTimeMillis].enumerated() {
                upsert.bind(Int32(4 + i), n)
            }
            histogram.withUnsafeBytes { upsert.bind(9, text: $0) }
            try upsert.step(db)
        }
    }

    /// A histogram's text, `ms:count` pairs joined by commas (a pair that does not read as two integers is skipped).
    package static func histogram(_ text: UnsafeRawBufferPointer) -> [Int64: Int64] {
        var out: [Int64: Int64] = [:]
        var i = 0
        func integer() -> Int64? {
            let negative = i < text.count && text[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            var n: Int64 = 0, digits = 0
            while i < text.count, text[i] >= 48, text[i] <= 57, digits < 18 {
                n = n * 10 + Int64(text[i] - 48)
                i += 1
                digits += 1
            }
            return digits == 0 ? nil : (negative ? -n : n)
        }
        while i < text.count {
            let ms = integer()
            let colon = i < text.count && text[i] == UInt8(ascii: ":")
            if colon { i += 1 }
            let count = colon ? integer() : nil
            if let ms, let count, i == text.count || text[i] == UInt8(ascii: ",") { out[ms] = count }
            while i < text.count, text[i] != UInt8(ascii: ",") { i += 1 }
            i += 1
        }
        return out
    }

    static func serviceKey(_ id: ServiceID) -> String { id.name + "\u{1F}" + id.type }

    static func serviceID(_ key: String) -> ServiceID {
        let parts = key.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
        return ServiceID(name: String(parts[0]), type: parts.count > 1 ? String(parts[1]) : "")
    }

    /// ok, error, throttle, fault, total_ms, histogram from column `i` on.
    /// Map-row statistics from their five counts (ok, error, throttle, fault, total milliseconds, by position) and
    /// their histogram.
    private static func statistics(counts c: (Int) -> Int64, histogram: [Int64: Int64]) -> ServiceStatistics {
        var s = ServiceStatistics()
        (s.ok, s.error, s.throttle, s.fault, s.totalResponseTimeMillis) = (c(0), c(1), c(2), c(3), c(4))
        s.histogram = histogram
        return s
    }

    private static func statistics(_ row: Row, from i: Int) -> ServiceStatistics {
        var text: String = row[i + 5]
        return statistics(counts: { row[i + $0] }, histogram: text.withUTF8 { histogram(UnsafeRawBufferPointer($0)) })
    }

    // MARK: Reading

    /// A stored trace as the append path keeps it: its facts and its documents, parsed again from their blocks.
    private static func cachedTrace(_ db: Database, row: Int64, facts blob: Data, references text: String) throws -> CachedTrace {
        var documents: [Document] = []
        for d in try documentTexts(db, references(text)) {
            let segment = try Segment.parse(JSONValue.parse(d.text), nowSeconds: 0)
            documents.append(Document(segment: segment, block: d.block, position: d.position))
        }
        return CachedTrace(row: row, documents: documents, facts: [UInt8](blob))
    }

    /// The texts of a trace's documents, in the order of its references.
    private static func documentTexts(_ db: Database, _ refs: [(id: String, inProgress: Bool, block: Int64, position: Int)]) throws
        -> [(id: String, text: String, block: Int64, position: Int)] {
        var blocks: [Int64: BlockCodec.Columns] = [:]
        var out: [(id: String, text: String, block: Int64, position: Int)] = []
        for ref in refs {
            if blocks[ref.block] == nil {
                guard let bytes = try Data.fetchOne(db, sql: "SELECT bytes FROM trace_block WHERE id = ?", arguments: [ref.block]) else {
                    continue
                }
                blocks[ref.block] = try bytes.withUnsafeBytes { try BlockCodec.decode($0) }
            }
            let c = blocks[ref.block]!
            guard ref.position < c.count else { throw StorageError(.corrupt, "trace document reference past its block") }
            out.append((ref.id, String(decoding: c.bytes[c.offsets[ref.position]..<c.offsets[ref.position + 1]], as: UTF8.self),
                        ref.block, ref.position))
        }
        return out
    }

    package func traces(ids: [String]) async throws -> [StoredTrace] {
        // Unindexed traces are looked up before the read begins: a trace that leaves them has its id committed to
        // trace_by_id before it does, so the read's snapshot finds it there. Before the store has read them (at
        // start-up), the read takes them from its own snapshot.
        let known = unindexed.known
        return try await database.pool.read { db in
            let unindexedRows = try known ?? UnindexedTraces.stored(db)
            let aliases = try Self.aliases(db, ids)
            var out: [StoredTrace] = []
            var seen = Set<TraceKey>()
            for id in ids {
                guard let key = TraceKey(aliases[id] ?? id), seen.insert(key).inserted,
                      let rowid = try UnindexedTraces.row(of: key, unindexed: unindexedRows, db),
                      let row = try Row.fetchOne(db, sql: "SELECT facts, segments FROM trace WHERE rowid = ?", arguments: [rowid])
                else { continue }
                let facts = try Self.facts(row[0])
                out.append(StoredTrace(facts: facts, documents: try Self.documentTexts(db, Self.references(row[1])).map { ($0.id, $0.text) }))
            }
            return out
        }
    }

    package func summaries(start: Double, end: Double, range: TraceTimeRange, filter: FilterExpression?, after token: String?,
                           limit: Int) async throws -> TraceSummaryPage {
        let terms = filter?.indexTerms.map(TracePostings.term) ?? []
        // Resume after the last trace of the previous page: (start, rowid).
        let (afterStart, afterRow) = Self.position(token)
        // The index must hold every trace committed so far: entries gathered or journalled are written first.
        if !terms.isEmpty {
            let journalled = try await database.pool.read {
                try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM trace_posting_journal)") ?? false
            }
            if journalled || postings.mayHoldAny { try await database.pool.write { db in try self.postings.flush(db) } }
        }
        // Traces are read in order of their start; the range type then decides which count. A trace that started
        // before the window can still have events or an id time in it: those are looked for up to an hour back.
        let lower = max(range == .service ? start : start - 3600, afterStart), upper = end
        return try await database.pool.read { db in
            var page = TraceSummaryPage(summaries: [], processed: 0, nextToken: nil)
            var lastRow: Int64 = 0
            /// Takes one trace into the page; false once the page is full.
            func take(row traceRow: Int64, start traceStart: Double, end traceEnd: Double, traceTime: Int64,
                      facts blob: UnsafeRawBufferPointer) throws -> Bool {
                if traceStart < afterStart || (traceStart == afterStart && traceRow <= afterRow) { return true }
                let inRange: Bool = switch range {
                case .traceID: Double(traceTime) >= start && Double(traceTime) <= end
                case .event: traceEnd >= start && traceStart <= end
                case .service: traceStart >= start && traceStart <= end
                }
                guard inRange else { return true }
                page.processed += 1
                let facts = try TraceFactsCodec.decode(blob)
                guard filter?.matches(facts) ?? true else { return true }
                if page.summaries.count == limit {
                    page.nextToken = "\(page.summaries[page.summaries.count - 1].startTime)|\(lastRow)"
                    page.processed -= 1
                    return false
                }
                page.summaries.append(facts)
                lastRow = traceRow
                return true
            }
            if terms.isEmpty {
                let cursor = try Row.fetchCursor(db, sql: "SELECT rowid, start, end, trace_time, facts FROM trace WHERE start >= ? AND start <= ? ORDER BY start, rowid",
                                                 arguments: [lower, upper])
                while let row = try cursor.next() {
                    let facts: Data = row[4]
                    guard try facts.withUnsafeBytes({ try take(row: row[0], start: row[1], end: row[2], traceTime: row[3], facts: $0) }) else { break }
                }
                return page
            }
            // Candidates listed under every term of the expression's top-level ANDs, checked against their rows (an
            // entry left from an earlier start, or of a deleted trace, is passed over).
            let select = try db.cachedStatement(sql: "SELECT end, trace_time, facts FROM trace WHERE rowid = ? AND start = ?")
            try TracePostings.forEachBucket(db, terms: terms, from: TracePostings.bucket(lower), through: TracePostings.bucket(upper)) { candidates in
                for c in candidates where c.start >= lower && c.start <= upper {
                    select.bind(1, c.trace)
                    select.bind(2, c.start)
                    let more = try select.firstRow(db) { row in
                        try take(row: c.trace, start: c.start, end: row.double(0), traceTime: row.int64(1), facts: row.blob(2))
                    }
                    if more == false { return false }
                }
                return true
            }
            return page
        }
    }

    /// A page token: the (start, rowid) of the previous page's last trace.
    private static func position(_ token: String?) -> (Double, Int64) {
        guard let token, let bar = token.firstIndex(of: "|"), let s = Double(token[..<bar]),
              let row = Int64(token[token.index(after: bar)...]) else { return (-Double.infinity, 0) }
        return (s, row)
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
        // One window per trace and stream: a batch's references to one are merged before they are written.
        var windows: [TraceLogReference] = []
        var index: [String: Int] = [:]
        for r in references {
            let key = r.traceID + "\u{1F}" + r.logGroup + "\u{1F}" + r.logStream
            if let i = index[key] {
                windows[i].first = min(windows[i].first, r.first)
                windows[i].last = max(windows[i].last, r.last)
            } else {
                index[key] = windows.count
                windows.append(r)
            }
        }
        try await database.pool.write { [windows] db in
            let stream = try db.cachedStatement(sql: """
                SELECT s.id FROM log_stream s JOIN log_group g ON g.id = s.group_id WHERE g.name = ? AND s.name = ?
                """)
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO trace_log (trace, stream, first, span) VALUES (?, ?, ?, ?)
                ON CONFLICT (trace, stream) DO UPDATE SET
                    first = min(first, excluded.first),
                    span = max(first + span, excluded.first + excluded.span) - min(first, excluded.first)
                """)
            var streams: [String: Int64] = [:]
            for w in windows {
                guard let trace = TraceIdentifiers.packed(traceID: w.traceID) else { continue }
                let key = w.logGroup + "\u{1F}" + w.logStream
                guard let id = try streams[key] ?? Int64.fetchOne(stream, arguments: [w.logGroup, w.logStream]) else { continue }
                streams[key] = id
                try upsert.execute(arguments: [Data(trace), id, w.first, w.last - w.first])
            }
        }
    }

    package func logReferences(traceIDs: [String]) async throws -> [TraceLogReference] {
        guard !traceIDs.isEmpty else { return [] }
        return try await database.pool.read { db in
            let packed = traceIDs.compactMap { TraceIdentifiers.packed(traceID: $0).map { Data($0) } }
            guard !packed.isEmpty else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT t.trace, g.name, s.name, t.first, t.span FROM trace_log t
                JOIN log_stream s ON s.id = t.stream JOIN log_group g ON g.id = s.group_id
                WHERE t.trace IN (\(Self.placeholders(packed.count))) ORDER BY t.first
                """, arguments: StatementArguments(packed)).compactMap { row in
                let trace: Data = row[0], first: Int64 = row[3], span: Int64 = row[4]
                return TraceIdentifiers.traceID(packed: trace).map {
                    TraceLogReference(traceID: $0, logGroup: row[1], logStream: row[2], first: first, last: first + span)
                }
            }
        }
    }

    package func deleteTraces(before: Double) async throws -> Int {
        let deleted = try await deleteRows(before: before)
        if deleted > 0 { cache.withLock { $0 = TraceCache(capacity: $0.capacity) } }
        return deleted
    }

    private func deleteRows(before: Double) async throws -> Int {
        try await database.pool.write { db -> Int in
            // Deleting a trace deletes its id from the id index, and its buckets of index entries: the deferred ids
            // and entries go first.
            try self.unindexed.applyAll(db)
            try self.postings.flush(db)
            // A trace ends after it starts: those with start < cut-off, through trace_by_start, hold every one to go.
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, trace_id FROM trace WHERE start < ? AND end < ?",
                                        arguments: [before, before])
            let deleteID = try db.cachedStatement(sql: "DELETE FROM trace_by_id WHERE id = ?")
            for row in rows {
                let rowid: Int64 = row[0], id: String = row[1]
                if let key = TraceKey(id) {
                    key.bind(deleteID, at: 1)
                    try deleteID.step(db)
                }
                try db.execute(sql: "DELETE FROM trace_alias WHERE root_trace_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM trace WHERE rowid = ?", arguments: [rowid])
            }
            // Posting lists go by whole buckets, those of starts before the cut-off's bucket. Traces kept that start
            // there (still running at the cut-off) are journalled again, their entries made from their facts.
            let cut = TracePostings.bucket(before)
            try db.execute(sql: "DELETE FROM trace_posting WHERE bucket < ?", arguments: [cut])
            let kept = try Int64.fetchAll(db, sql: "SELECT rowid FROM trace WHERE start < ?", arguments: [Double(cut) * TracePostings.bucketSeconds])
            try self.postings.add(db, TracePostings.postings(db, traces: kept), traces: kept)
            try self.postings.flush(db)
            // New rows take the rowid after the largest left: every row up to that one is indexed.
            try UnindexedTraces.keepThroughBelowNewRows(db)
            // Blocks hold the documents of many traces: one goes once it is older than retention by the longest a
            // trace is expected to last (a week).
            try db.execute(sql: "DELETE FROM trace_block WHERE created < ?", arguments: [Int64((before - Self.maxTraceSpan) * 1000)])
            try db.execute(sql: "DELETE FROM service_stat WHERE minute < ?", arguments: [Int64(before)])
            // Windows that ended before the cut-off (a scan: the sweep is occasional, and an index by time would
            // double the table).
            try db.execute(sql: "DELETE FROM trace_log WHERE first + span < ?", arguments: [Int64(before * 1000)])
            return rows.count
        }
    }

    /// How long after its first document a trace may still receive documents (blocks are kept this much longer).
    static let maxTraceSpan: Double = 7 * 86_400
}
