import Foundation
import GRDB
import SkylensCore

/// The index of traces by term (each annotation value, typed, and each service name): `trace_posting` holds posting
/// lists, rows of (term, bucket, flush) whose `entries` are the (start, trace rowid) pairs of traces with that term
/// and a start in the bucket's ten seconds, written by one flush.
///
/// Commits do not write postings: each appends the rowids of the traces whose terms it added or moved as one
/// `trace_posting_journal` row and leaves their entries here, and a flush writes everything gathered as one row per
/// term and bucket (every second by the maintenance loop, by the commit that brings it to the store's limit, and
/// before any summary that narrows by terms), so that a term common to every trace is one row a second instead of one
/// row per trace. A journal row whose entries are not here (written before a restart, or by another store) has them
/// made again from its traces' facts, so a flush never misses a committed trace.
///
/// Entries are never removed when a trace changes: a trace whose terms or start changed gets new entries, and a reader
/// checks each candidate against the trace's row (an entry whose start is not the trace's, or whose trace is gone, is
/// passed over) and evaluates the whole filter on its facts. Retention drops whole buckets.
///
/// What a transaction gathers is staged and joins the gathered entries when it commits (an observer of the writer's
/// connection, as ``UnindexedTraces`` does): a rolled-back commit leaves nothing here.
package final class TracePostings: Sendable {
    /// One trace in a posting list.
    package struct Entry: Hashable, Comparable, Sendable {
        package var start: Double
        /// The trace's rowid.
        package var trace: Int64

        package init(start: Double, trace: Int64) {
            self.start = start
            self.trace = trace
        }

        package static func < (a: Entry, b: Entry) -> Bool { (a.start, a.trace) < (b.start, b.trace) }
    }

    /// A term's entry of one trace.
    typealias Posting = (term: String, entry: Entry)

    /// The width of a bucket of trace starts, in seconds: a reader decodes a term's lists a bucket at a time (a term
    /// common to every trace holds a bucket's ten seconds of traces), and retention drops buckets.
    package static let bucketSeconds = 10.0

    /// The bucket of a start (clamped far beyond any valid start, so that every value has one).
    package static func bucket(_ start: Double) -> Int64 {
        Int64((start / bucketSeconds).rounded(.down).clamped(to: -1e15...1e15))
    }

    private struct State {
        /// Committed entries not written yet, and the journal rows they came with.
        var gathered: [Posting] = []
        var known: Set<Int64> = []
        /// Whether a flush has committed since start-up (before one, the journal may hold an earlier run's rows).
        var flushedOnce = false
        /// Staged by the current transaction: its entries and journal rows, and whether it flushed.
        var staged: [Posting] = []
        var stagedJournal: [Int64] = []
        var flushed = false
    }

    private let state = LockedState(State())

    /// Gathers the entries of `pool`'s commits.
    init(observing pool: DatabasePool) {
        let state = self.state
        CommitObserver.observe(pool, committed: { Self.committed(state) }, rolledBack: { Self.rolledBack(state) })
    }

    /// Whether a flush may have anything to write.
    var mayHoldAny: Bool { state.withLock { !$0.flushedOnce || !$0.gathered.isEmpty } }

    /// Entries gathered, committed or staged.
    var count: Int { state.withLock { $0.gathered.count + $0.staged.count } }

    /// Stages a commit's entries, `traces` (the rowids they are of) journalled with them.
    func add(_ db: Database, _ postings: [Posting], traces: [Int64]) throws {
        guard !traces.isEmpty else { return }
        var w = TraceFactsCodec.Output(capacity: traces.count * 3 + 8)
        var last: Int64 = 0
        for t in traces {
            w.signed(t &- last)
            last = t
        }
        let insert = try db.cachedStatement(sql: "INSERT INTO trace_posting_journal (traces) VALUES (?)")
        try w.withBytes { bytes in
            insert.bind(1, blob: bytes)
            try insert.step(db)
        }
        let id = db.lastInsertedRowID
        state.withLock { s in
            s.staged += postings
            s.stagedJournal.append(id)
        }
    }

    /// Writes every gathered entry, and those of journal rows not gathered here, to `trace_posting`, and empties the
    /// journal.
    func flush(_ db: Database) throws {
        var (postings, known) = state.withLock { s in (s.gathered + s.staged, s.known.union(s.stagedJournal)) }
        var lastID: Int64?
        var recover: [Int64] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT id, traces FROM trace_posting_journal ORDER BY id")
        while let row = try rows.next() {
            let id: Int64 = row[0]
            lastID = id
            guard known.remove(id) == nil else { continue }
            let blob: Data = row[1]
            try blob.withUnsafeBytes { try Self.readJournalRow($0, into: &recover) }
        }
        if !recover.isEmpty { postings += try Self.postings(db, traces: recover) }
        // (Without journal rows, whatever is gathered was written by another store's flush, which made it again.)
        if let lastID {
            try Self.write(db, postings, flush: lastID)
            try db.cachedStatement(sql: "DELETE FROM trace_posting_journal WHERE id <= ?").execute(arguments: [lastID])
        }
        state.withLock { s in
            s.flushed = true
            s.staged.removeAll()
            s.stagedJournal.removeAll()
        }
    }

    /// The entries of the given traces, made from their facts (a trace without a row has none).
    static func postings(_ db: Database, traces: [Int64]) throws -> [Posting] {
        var out: [Posting] = []
        let select = try db.cachedStatement(sql: "SELECT facts FROM trace WHERE rowid = ?")
        for trace in traces {
            guard let blob = try Data.fetchOne(select, arguments: [trace]) else { continue }
            append(try SQLiteTraceStore.facts(blob), of: trace, to: &out)
        }
        return out
    }

    /// Appends the entries of trace `trace`, one for each of its facts' terms.
    static func append(_ facts: TraceFacts, of trace: Int64, to postings: inout [Posting]) {
        for term in terms(facts) { postings.append((term, Entry(start: facts.startTime, trace: trace))) }
    }

    /// Writes `postings` as one row per term and bucket, in key order (terms by their bytes, as SQLite orders them),
    /// under the flush number `flush` (which no earlier flush used).
    static func write(_ db: Database, _ postings: [Posting], flush: Int64) throws {
        guard !postings.isEmpty else { return }
        var numbering = Numbering<String>()
        let numbers = postings.map { numbering.number($0.term) }
        let terms = numbering.values
        let byBytes = terms.indices.sorted { compareBytes(terms[$0], terms[$1]) < 0 }
        var rank = [Int](repeating: 0, count: terms.count)
        for (r, t) in byBytes.enumerated() { rank[t] = r }
        // The entries by term in key order (placed by their term's rank), then each term's by start and rowid (a
        // second's entries arrive nearly in start order, which the sort takes as runs): a bucket is a run of starts.
        var starts = [Int](repeating: 0, count: terms.count + 1)
        for n in numbers { starts[rank[n] + 1] += 1 }
        for r in terms.indices { starts[r + 1] += starts[r] }
        var next = starts
        var ordered = [Entry](repeating: Entry(start: 0, trace: 0), count: postings.count)
        for (i, n) in numbers.enumerated() {
            ordered[next[rank[n]]] = postings[i].entry
            next[rank[n]] += 1
        }
        // Each run of one term and bucket becomes a row.
        var rows: [(term: Int, bucket: Int64, entries: [UInt8])] = []
        var entries: [Entry] = []
        for (r, t) in byBytes.enumerated() {
            ordered[starts[r]..<starts[r + 1]].sort()
            var first = starts[r]
            while first < starts[r + 1] {
                let b = bucket(ordered[first].start)
                entries.removeAll(keepingCapacity: true)
                var end = first
                while end < starts[r + 1], bucket(ordered[end].start) == b {
                    if entries.last != ordered[end] { entries.append(ordered[end]) }
                    end += 1
                }
                rows.append((t, b, encode(entries)))
                first = end
            }
        }
        try SQLiteTraceStore.insertRows(db, into: "trace_posting (term, bucket, flush, entries)", count: rows.count, columns: 4,
                                        onConflict: .fail) { statement, i, first in
            statement.bind(first, terms[rows[i].term])
            statement.bind(first + 1, rows[i].bucket)
            statement.bind(first + 2, flush)
            rows[i].entries.withUnsafeBytes { statement.bind(first + 3, blob: $0) }
        }
    }

    /// Orders two strings by their UTF-8 bytes, as SQLite's BINARY collation does (negative: `a` first).
    /// Native strings are compared in place (`withUTF8` would take mutable copies); any other string goes through its
    /// UTF-8 view.
    private static func compareBytes(_ a: String, _ b: String) -> Int {
        let ordered = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Int in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c != 0 ? Int(c) : x.count - y.count
            }
        }
        if let ordered = ordered ?? nil { return ordered }
        if a.utf8.elementsEqual(b.utf8) { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }

    /// Candidates of a bucket at or below which the other terms' lists are not read.
    static let intersectAbove = 64

    /// Calls `body` with the candidates of each bucket from `first` through `last` in turn (those listed under the
    /// first of `terms`, and under every other one unless they are few: ``intersectAbove``), by start and rowid, each
    /// once, until it returns false.
    static func forEachBucket(_ db: Database, terms: [String], from first: Int64, through last: Int64,
                              _ body: ([Entry]) throws -> Bool) throws {
        guard let lead = terms.first, first <= last else { return }
        let others = try db.cachedStatement(sql: "SELECT entries FROM trace_posting WHERE term = ? AND bucket = ?")
        var entries: [Entry] = []
        var current: Int64?
        func finish() throws -> Bool {
            guard let bucket = current else { return true }
            defer { entries.removeAll(keepingCapacity: true) }
            entries.sort()
            var candidates: [Entry] = []
            candidates.reserveCapacity(entries.count)
            for e in entries where candidates.last != e { candidates.append(e) }
            // Each other term keeps the candidates its lists hold (a list and the candidates are both in order: one
            // walk through the two). A few candidates are left to the facts check instead: decoding a common term's
            // lists (a bucket of a service every trace calls) costs more than reading a few traces' facts.
            var listed: [Bool] = []
            var decoded: [Entry] = []
            for term in terms.dropFirst() where candidates.count > intersectAbove {
                listed = Array(repeating: false, count: candidates.count)
                let rows = try Data.fetchCursor(others, arguments: [term, bucket])
                while let blob = try rows.next() {
                    decoded.removeAll(keepingCapacity: true)
                    try blob.withUnsafeBytes { try decode($0, into: &decoded) }
                    var c = 0
                    for e in decoded {
                        while c < candidates.count, candidates[c] < e { c += 1 }
                        guard c < candidates.count else { break }
                        if candidates[c] == e { listed[c] = true }
                    }
                }
                candidates = candidates.indices.filter { listed[$0] }.map { candidates[$0] }
            }
            return candidates.isEmpty ? true : try body(candidates)
        }
        let rows = try Row.fetchCursor(db, sql: "SELECT bucket, entries FROM trace_posting WHERE term = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket",
                                       arguments: [lead, first, last])
        while let row = try rows.next() {
            let bucket: Int64 = row[0]
            if bucket != current {
                guard try finish() else { return }
                current = bucket
            }
            let blob: Data = row[1]
            try blob.withUnsafeBytes { try decode($0, into: &entries) }
        }
        _ = try finish()
    }

    // MARK: Terms

    /// A trace's index terms, each once: each annotation value (typed) and each service name, in the order of the
    /// facts (so that unchanged facts give an equal list).
    static func terms(_ f: TraceFacts) -> [String] {
        var terms: [String] = []
        terms.reserveCapacity(f.annotations.count + f.services.count)
        for a in f.annotations {
            let t = term(.annotation(key: a.key, value: a.value))
            if !terms.contains(t) { terms.append(t) }
        }
        for s in f.services {
            let t = term(.service(name: s.id.name))
            if !terms.contains(t) { terms.append(t) }
        }
        return terms
    }

    /// A term's text: `a:<key>=<typed value>` for an annotation, `s:<name>` for a service.
    static func term(_ t: TraceIndexTerm) -> String {
        switch t {
        case .annotation(let key, .string(let s)): joined("a:", key, "=s:", s)
        case .annotation(let key, let value): joined("a:", key, "=", value.indexKey)
        case .service(let name): "s:" + name
        }
    }

    /// `a + b + c + d` in one allocation at most (each `+` made a string of its own, on the heap beyond 15 bytes).
    private static func joined(_ a: StaticString, _ b: String, _ c: StaticString, _ d: String) -> String {
        var b = b, d = d
        return b.withUTF8 { b in
            d.withUTF8 { d in
                String(unsafeUninitializedCapacity: a.utf8CodeUnitCount + b.count + c.utf8CodeUnitCount + d.count) { out in
                    var n = 0
                    func put(_ part: UnsafeBufferPointer<UInt8>) {
                        _ = UnsafeMutableBufferPointer(rebasing: out[n...]).initialize(fromContentsOf: part)
                        n += part.count
                    }
                    put(UnsafeBufferPointer(start: a.utf8Start, count: a.utf8CodeUnitCount))
                    put(b)
                    put(UnsafeBufferPointer(start: c.utf8Start, count: c.utf8CodeUnitCount))
                    put(d)
                    return n
                }
            }
        }
    }

    // MARK: Encoding

    /// A posting list's bytes: the number of entries, then each entry's start (its order-keeping bit pattern, the
    /// first whole and then each as the difference from the one before) and rowid (a zig-zag difference from the one
    /// before), all varints. `entries` are in order, each once.
    package static func encode(_ entries: [Entry]) -> [UInt8] {
        var w = TraceFactsCodec.Output(capacity: entries.count * 8 + 16)
        w.count(entries.count)
        var lastStart: UInt64 = 0, lastTrace: Int64 = 0
        for e in entries {
            let key = orderKey(e.start)
            w.unsigned(key &- lastStart)
            w.signed(e.trace &- lastTrace)
            (lastStart, lastTrace) = (key, e.trace)
        }
        return w.bytes
    }

    /// Appends a posting list's entries to `entries`.
    package static func decode(_ bytes: UnsafeRawBufferPointer, into entries: inout [Entry]) throws(StorageError) {
        let r = TraceFactsCodec.Reader(bytes: bytes)
        do {
            let n = try r.count()
            entries.reserveCapacity(entries.count + n)
            var start: UInt64 = 0, trace: Int64 = 0
            for _ in 0..<n {
                start &+= try r.varint()
                trace &+= try r.signed()
                entries.append(Entry(start: startValue(start), trace: trace))
            }
        } catch {
            throw StorageError(.corrupt, "trace postings truncated")
        }
        guard r.position == bytes.count else { throw StorageError(.corrupt, "trace postings: bytes after the last entry") }
    }

    /// A double's bit pattern made to order as the doubles do (negative ones inverted, positive ones above them).
    private static func orderKey(_ d: Double) -> UInt64 {
        let bits = d.bitPattern
        return bits >> 63 == 1 ? ~bits : bits | (1 << 63)
    }

    private static func startValue(_ key: UInt64) -> Double {
        Double(bitPattern: key >> 63 == 1 ? key & ~(1 << 63) : ~key)
    }

    /// A journal row's rowids, appended to `traces`.
    private static func readJournalRow(_ bytes: UnsafeRawBufferPointer, into traces: inout [Int64]) throws(StorageError) {
        let r = TraceFactsCodec.Reader(bytes: bytes)
        var last: Int64 = 0
        do {
            while r.position < bytes.count {
                last &+= try r.signed()
                traces.append(last)
            }
        } catch {
            throw StorageError(.corrupt, "trace posting journal truncated")
        }
    }

    // MARK: Commits

    private static func committed(_ state: LockedState<State>) {
        state.withLock { s in
            if s.flushed {
                s.gathered.removeAll(keepingCapacity: true)
                s.known.removeAll()
                s.flushedOnce = true
            }
            s.gathered += s.staged
            s.known.formUnion(s.stagedJournal)
            (s.staged, s.stagedJournal, s.flushed) = ([], [], false)
        }
    }

    private static func rolledBack(_ state: LockedState<State>) {
        state.withLock { s in (s.staged, s.stagedJournal, s.flushed) = ([], [], false) }
    }
}

private extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
