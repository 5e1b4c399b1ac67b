import Foundation
import GRDB
import SkylensCore

/// Trace rows whose ids are not yet in `trace_by_id` (those with a rowid above `trace_by_id_state.through`), by
/// trace id (as a ``TraceKey``), so that a trace is found by its id before ``apply(_:_:)`` writes the gathered ids to
/// the index in key order. (SQLite keeping a unique index on the id itself wrote a random page of it for each new
/// trace: ids end in 96 random bits.)
///
/// What a transaction changes here (rows added, ids written) is staged and takes effect when it commits, through an
/// observer of the writer's connection that runs before the next transaction: a reader that looks here before its
/// read begins finds a trace either here or in a committed `trace_by_id`. The rows are read from the database when
/// not known (at start-up) and whenever the table's last rowid is not the last one added here (another connection
/// wrote rows).
final class UnindexedTraces: Sendable {
    private struct State {
        /// nil until read from the database.
        var rows: [TraceKey: Int64]?
        /// The table's last rowid as of `rows`.
        var lastRow: Int64 = 0
        /// Staged by the current transaction: rows it added, and the rowid through which it wrote ids to the index.
        var added: [(key: TraceKey, row: Int64)] = []
        var appliedThrough: Int64?
    }

    private let state = LockedState(State())

    /// Follows the rows `pool`'s commits add and index.
    init(observing pool: DatabasePool) {
        let state = self.state
        CommitObserver.observe(pool, committed: { Self.committed(state) }, rolledBack: { Self.rolledBack(state) })
    }

    /// The unindexed rows, as the last commit left them (nil when not known yet).
    var known: [TraceKey: Int64]? { state.withLock { $0.rows } }

    /// Whether any row may be unindexed.
    var mayHoldAny: Bool { state.withLock { $0.rows.map { !$0.isEmpty } ?? true } }

    /// The unindexed rows as of the current write transaction's start (read from the database if need be), and the
    /// table's last rowid then (new rows take the ones after it): called at the start of each write transaction that
    /// uses them, before it adds rows.
    func rows(_ db: Database) throws -> (rows: [TraceKey: Int64], lastRow: Int64) {
        let lastRow = try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(rowid), 0) FROM trace")) ?? 0
        if let rows = state.withLock({ $0.lastRow == lastRow ? $0.rows : nil }) { return (rows, lastRow) }
        let rows = try Self.stored(db)
        state.withLock { s in
            s.rows = rows
            s.lastRow = lastRow
        }
        return (rows, lastRow)
    }

    /// The unindexed rows as the database (or a reader's snapshot of it) holds them: those above `through`. (A row
    /// whose id is not a valid trace id, which ingest never writes, could not be looked up by one: it is left out.)
    static func stored(_ db: Database) throws -> [TraceKey: Int64] {
        let through = try Int64.fetchOne(db, sql: "SELECT through FROM trace_by_id_state") ?? 0
        var rows: [TraceKey: Int64] = [:]
        let cursor = try Row.fetchCursor(db, sql: "SELECT trace_id, rowid FROM trace WHERE rowid > ?", arguments: [through])
        while let row = try cursor.next() {
            if let key = TraceKey(row[0]) { rows[key] = row[1] }
        }
        return rows
    }

    /// A trace's rowid: among the unindexed `rows`, else through `trace_by_id` (nil when it has no row).
    static func row(of key: TraceKey, unindexed rows: [TraceKey: Int64], _ db: Database) throws -> Int64? {
        if let row = rows[key] { return row }
        let byID = try db.cachedStatement(sql: "SELECT trace FROM trace_by_id WHERE id = ?")
        key.bind(byID, at: 1)
        return try byID.firstInt64(db)
    }

    /// Stages rows the current transaction added; returns how many rows are then unindexed.
    func add(_ added: [(key: TraceKey, row: Int64)]) -> Int {
        state.withLock { s in
            s.added += added
            return (s.rows?.count ?? 0) + s.added.count
        }
    }

    /// Writes the ids of the unindexed rows (`rows`, as ``rows(_:)`` gave them in this transaction, and those it
    /// added) to `trace_by_id`, in key order.
    func apply(_ db: Database, _ rows: [TraceKey: Int64]) throws {
        var keys = rows.map { (key: $0.key, row: $0.value) } + state.withLock { $0.added }
        guard !keys.isEmpty else { return }
        keys.sort { $0.key < $1.key }
        try SQLiteTraceStore.insertRows(db, into: "trace_by_id (id, trace)", count: keys.count, columns: 2, onConflict: .replace) { statement, i, first in
            keys[i].key.bind(statement, at: first)
            statement.bind(first + 1, keys[i].row)
        }
        let through = keys.reduce(0) { max($0, $1.row) }
        try db.execute(sql: "UPDATE trace_by_id_state SET through = max(through, ?)", arguments: [through])
        state.withLock { $0.appliedThrough = through }
    }

    /// Writes every unindexed row's id, in a write transaction that has added no rows yet.
    func applyAll(_ db: Database) throws {
        try apply(db, rows(db).rows)
    }

    /// Makes `through` no larger than the table's last rowid (after deletions), so that a row added later, which takes
    /// the rowid after the last, is above it.
    static func keepThroughBelowNewRows(_ db: Database) throws {
        try db.execute(sql: "UPDATE trace_by_id_state SET through = min(through, (SELECT coalesce(max(rowid), 0) FROM trace))")
    }

    private static func committed(_ state: LockedState<State>) {
        state.withLock { s in
            defer { (s.added, s.appliedThrough) = ([], nil) }
            guard s.rows != nil else { return }
            for a in s.added {
                s.rows![a.key] = a.row
                s.lastRow = max(s.lastRow, a.row)
            }
            if let through = s.appliedThrough {
                // Usually every row was written (the table keeps its capacity for the next second's rows).
                if through >= s.lastRow { s.rows!.removeAll(keepingCapacity: true) } else { s.rows = s.rows!.filter { $0.value > through } }
            }
        }
    }

    private static func rolledBack(_ state: LockedState<State>) {
        state.withLock { s in (s.added, s.appliedThrough) = ([], nil) }
    }
}

extension TraceKey {
    /// Binds the key's 16 bytes (as `trace_by_id.id` holds them).
    func bind(_ statement: Statement, at index: Int32) {
        var words = (high.bigEndian, low.bigEndian)
        withUnsafeBytes(of: &words) { statement.bind(index, blob: $0) }
    }
}
