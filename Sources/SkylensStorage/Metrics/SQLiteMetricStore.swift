import Foundation
import GRDB
import GRDBSQLite
import SkylensCore

/// The SQLite implementation of the `MetricStore` port.
///
/// ```
/// metric_series (namespace, name, canonical dims) ──< metric_point (resolution 1 s | 60 s, bucket start,
///                                                                  SampleCount, Sum, Min, Max, sketch)
/// metric_journal (one row per commit: the datums, by series id)
/// ```
/// Writes are a journal: a commit appends its datums as one `metric_journal` row (durable once the commit returns)
/// and merges them into open buckets held in memory. A flush rewrites the open buckets' `metric_point` rows (read,
/// merge, write) and empties the journal in one transaction, so each bucket is rewritten once per flush rather than
/// once per commit. Flushes happen when the open buckets or the journal grow past a limit, before every read, and
/// from the maintenance service; at start-up the journal is replayed into memory. Per-second buckets are kept for
/// high-resolution datums (StorageResolution 1) and answer periods under a minute.
///
/// Every change to the in-memory state happens inside a write transaction (so in the order of the commits); after a
/// failed transaction the memory is dropped and rebuilt from the journal, the source of truth.
package final class SQLiteMetricStore: MetricStore {
    package let database: SkylensDatabase
    private let memory = LockedState(Memory())
    /// Open buckets beyond which a commit also flushes.
    private let maxOpenBuckets: Int
    /// Journal bytes beyond which a commit also flushes.
    private let maxJournalBytes: Int

    private struct Memory {
        var loaded = false
        var seriesIDs: [MetricSeries: Int64] = [:]
        var open: [BucketID: MetricAggregate] = [:]
        /// The latest timestamp and unit of each series written since the last flush.
        var touched: [Int64: (timestamp: Int64, unit: MetricUnit)] = [:]
        var journalBytes = 0

        var isDirty: Bool { !open.isEmpty || journalBytes > 0 }

        mutating func apply(_ entries: [MetricJournal.Entry]) {
            for e in entries {
                let d = e.datum
                if let t = touched[e.series], t.timestamp > d.timestamp {
                    touched[e.series] = (t.timestamp, d.unit)
                } else {
                    touched[e.series] = (d.timestamp, d.unit)
                }
                open[BucketID(series: e.series, resolution: 60, start: MetricPeriod.start(of: d.timestamp, period: 60)), default: .init()].add(d)
                if d.storageResolution == 1 {
                    open[BucketID(series: e.series, resolution: 1, start: MetricPeriod.start(of: d.timestamp, period: 1)), default: .init()].add(d)
                }
            }
        }

    }

    package init(database: SkylensDatabase, maxOpenBuckets: Int = 50_000, maxJournalBytes: Int = 16 << 20) {
        self.database = database
        self.maxOpenBuckets = maxOpenBuckets
        self.maxJournalBytes = maxJournalBytes
    }

    package func put(_ datums: [MetricDatum]) async throws {
        guard !datums.isEmpty else { return }
        let flushNeeded = try await writing { db in
            try self.loadIfNeeded(db)
            var entries: [MetricJournal.Entry] = []
            entries.reserveCapacity(datums.count)
            for datum in datums { entries.append(.init(series: try self.seriesID(datum.series, datum, db), datum: datum)) }
            let row = MetricJournal.encode(entries)
            try db.execute(sql: "INSERT INTO metric_journal (datums) VALUES (?)", arguments: [Data(row)])
            return self.memory.withLock { m in
                m.apply(entries)
                m.journalBytes += row.count
                return m.open.count > self.maxOpenBuckets || m.journalBytes > self.maxJournalBytes
            }
        }
        if flushNeeded { try await flush() }
    }

    /// Writes the open buckets to `metric_point` and empties the journal.
    package func flush() async throws {
        let dirty = memory.withLock { !$0.loaded || $0.isDirty }
        guard dirty else { return }
        try await writing { db in
            try self.loadIfNeeded(db)
            let (open, touched) = self.memory.withLock { ($0.open, $0.touched) }
            for (key, aggregate) in open { try Self.merge(aggregate, into: key, db) }
            let update = try db.cachedStatement(sql: "UPDATE metric_series SET last_ts = max(last_ts, ?), unit = ? WHERE id = ?")
            for (id, latest) in touched { try update.execute(arguments: [latest.timestamp, latest.unit.rawValue, id]) }
            try db.execute(sql: "DELETE FROM metric_journal")
            self.memory.withLock { m in
                m.open = [:]
                m.touched = [:]
                m.journalBytes = 0
            }
        }
    }

    /// A write transaction; if it fails, the in-memory state is dropped, to be rebuilt from the journal.
    private func writing<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await database.pool.write(body)
        } catch {
            memory.withLock { $0 = Memory() }
            throw error
        }
    }

    /// Replays the journal into memory (at start-up, or after a failed transaction).
    private func loadIfNeeded(_ db: Database) throws {
        guard !memory.withLock({ $0.loaded }) else { return }
        var state = Memory()
        for row in try Row.fetchAll(db, sql: "SELECT datums FROM metric_journal ORDER BY id") {
            let blob: [UInt8] = Array(row[0] as Data)
            guard let entries = MetricJournal.decode(blob) else { throw StorageError(.corrupt, "unreadable metric journal row") }
            state.apply(entries)
            state.journalBytes += blob.count
        }
        state.loaded = true
        memory.withLock { $0 = state }
    }

    /// The id of `series`, creating its row (with the datum's unit and time) the first time it is seen.
    private func seriesID(_ series: MetricSeries, _ datum: MetricDatum, _ db: Database) throws -> Int64 {
        if let id = memory.withLock({ $0.seriesIDs[series] }) { return id }
        let dims = series.canonicalDimensions
        let id: Int64
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM metric_series WHERE namespace = ? AND name = ? AND dims = ?",
                                             arguments: [series.namespace, series.name, dims]) {
            id = existing
        } else {
            try db.execute(sql: "INSERT INTO metric_series (namespace, name, dims, unit, last_ts) VALUES (?, ?, ?, ?, ?)",
                           arguments: [series.namespace, series.name, dims, datum.unit.rawValue, datum.timestamp])
            id = db.lastInsertedRowID
        }
        memory.withLock { $0.seriesIDs[series] = id }
        return id
    }

    package func aggregates(_ query: MetricQuery) async throws -> MetricPoints {
        try await aggregates([query])[0]
    }

    /// Many queries at once (the alarm engine reads every due alarm's range, GetMetricData a page's metrics): in two
    /// concurrent read transactions when there are several, so that both cores decode rows.
    package func aggregates(_ queries: [MetricQuery]) async throws -> [MetricPoints] {
        try await flush()
        // Rows are not Sendable: decode them inside the read so that the asynchronous read is used.
        guard queries.count > 1 else { return try await database.pool.read { db in try queries.map { try Self.read($0, db) } } }
        let half = queries.count / 2
        let (head, tail) = (Array(queries[..<half]), Array(queries[half...]))
        async let first = database.pool.read { db in try head.map { try Self.read($0, db) } }
        let second = try await database.pool.read { db in try tail.map { try Self.read($0, db) } }
        return try await first + second
    }

    /// One query's periods. Rows come in bucket order, so each period's buckets are adjacent and merge as they
    /// stream past.
    private static func read(_ query: MetricQuery, _ db: Database) throws -> MetricPoints {
        let resolutions = MetricRetention.resolutions(forPeriod: query.periodSeconds)
        let first = MetricPeriod.start(of: query.start, period: resolutions.max() ?? 60)
        let period = query.periodSeconds
        let withSketch = query.needsPercentiles
        let lookup = try db.cachedStatement(sql: "SELECT id, unit FROM metric_series WHERE namespace = ? AND name = ? AND dims = ?")
        guard let series = try Row.fetchOne(lookup, arguments: [query.series.namespace, query.series.name, query.series.canonicalDimensions])
        else { return MetricPoints(unit: .none, points: []) }
        let id: Int64 = series[0]
        let unit: String = series[1]
        let statement = try db.cachedStatement(sql: """
            SELECT start, sample_count, sum, minimum, maximum\(withSketch ? ", sketch" : "") FROM metric_point
            WHERE series_id = ? AND resolution IN (\(resolutions.map(String.init).joined(separator: ","))) AND start >= ? AND start < ?
            ORDER BY start
            """)
        try statement.setArguments([id, first, query.end])
        var points: [(start: Int64, aggregate: MetricAggregate)] = []
        // Long reads (a week of minutes is 10,080 rows a series) step the statement directly: GRDB's row decoding
        // costs more than SQLite's own work here.
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage) }
            let periodStart = MetricPeriod.start(of: sqlite3_column_int64(handle, 0), period: period)
            guard periodStart + Int64(period) * 1000 > query.start else { continue }
            var aggregate = MetricAggregate()
            aggregate.stats.sampleCount = sqlite3_column_double(handle, 1)
            aggregate.stats.sum = sqlite3_column_double(handle, 2)
            aggregate.stats.minimum = sqlite3_column_double(handle, 3)
            aggregate.stats.maximum = sqlite3_column_double(handle, 4)
            if withSketch {
                let count = Int(sqlite3_column_bytes(handle, 5))
                let bytes = sqlite3_column_blob(handle, 5).map { UnsafeRawBufferPointer(start: $0, count: count) }
                guard let sketch = QuantileSketch(encoded: bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)) else {
                    throw StorageError(.corrupt, "unreadable metric sketch")
                }
                aggregate.sketch = sketch
            }
            if points.last?.start == periodStart {
                points[points.count - 1].aggregate.merge(aggregate)
            } else {
                points.append((periodStart, aggregate))
            }
        }
        return MetricPoints(unit: MetricUnit(rawValue: unit) ?? .none, points: points)
    }

    package func listSeries(namespace: String?, name: String?, dimensions: [(name: String, value: String?)],
                            activeSince: Int64?) async throws -> [MetricSeries] {
        try await flush()
        let rows = try await database.pool.read { db -> [(String, String, String)] in
            var sql = "SELECT namespace, name, dims FROM metric_series WHERE 1 = 1"
            var args: StatementArguments = []
            if let namespace { sql += " AND namespace = ?"; args += [namespace] }
            if let name { sql += " AND name = ?"; args += [name] }
            if let activeSince { sql += " AND last_ts >= ?"; args += [activeSince] }
            sql += " ORDER BY namespace, name, dims"
            return try Row.fetchAll(db, sql: sql, arguments: args).map { ($0[0], $0[1], $0[2]) }
        }
        return rows.compactMap { row -> MetricSeries? in
            let dims = MetricSeries.dimensions(fromCanonical: row.2)
            for filter in dimensions {
                guard let value = dims[filter.name] else { return nil }
                if let wanted = filter.value, wanted != value { return nil }
            }
            return MetricSeries(namespace: row.0, name: row.1, dimensions: dims)
        }
    }

    package func sweepExpired(now: Int64) async throws -> Int {
        try await flush()
        return try await database.pool.write { db in
            var changed = 0
            let schedule = MetricRetention.schedule
            for (k, step) in schedule.enumerated() {
                let cutoff = now - step.keep
                if step.resolution == 1 || k == schedule.count - 1 {
                    // Per-second data is also in the per-minute buckets; the coarsest level simply expires.
                    try db.execute(sql: "DELETE FROM metric_point WHERE resolution = ? AND start < ?", arguments: [step.resolution, cutoff])
                    changed += db.changesCount
                    continue
                }
                let coarser = schedule[k + 1].resolution
                // Only whole coarser buckets are rolled up, so a rollup never overlaps finer data still kept.
                let limit = MetricPeriod.start(of: cutoff, period: coarser)
                let rows = try Row.fetchAll(db, sql: """
                    SELECT series_id, start, sample_count, sum, minimum, maximum, sketch FROM metric_point
                    WHERE resolution = ? AND start < ?
                    """, arguments: [step.resolution, limit])
                guard !rows.isEmpty else { continue }
                var rolled: [BucketID: MetricAggregate] = [:]
                for row in rows {
                    let start: Int64 = row[1]
                    rolled[BucketID(series: row[0], resolution: coarser, start: MetricPeriod.start(of: start, period: coarser)), default: .init()]
                        .merge(try Self.aggregate(row, offset: 2))
                }
                for (bucket, aggregate) in rolled { try Self.merge(aggregate, into: bucket, db) }
                try db.execute(sql: "DELETE FROM metric_point WHERE resolution = ? AND start < ?", arguments: [step.resolution, limit])
                changed += db.changesCount
            }
            return changed
        }
    }

    // MARK: helpers

    /// Merges `aggregate` into the stored bucket `key` (read, merge, write): how flushes and rollups both write.
    private static func merge(_ aggregate: MetricAggregate, into key: BucketID, _ db: Database) throws {
        let read = try db.cachedStatement(sql: """
            SELECT sample_count, sum, minimum, maximum, sketch FROM metric_point WHERE series_id = ? AND resolution = ? AND start = ?
            """)
        let write = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO metric_point (series_id, resolution, start, sample_count, sum, minimum, maximum, sketch)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var merged = aggregate
        if let row = try Row.fetchOne(read, arguments: [key.series, key.resolution, key.start]) {
            merged.merge(try Self.aggregate(row))
        }
        try write.execute(arguments: [key.series, key.resolution, key.start, merged.stats.sampleCount, merged.stats.sum,
                                      merged.stats.minimum, merged.stats.maximum, Data(merged.sketch.encoded)])
    }

    struct BucketID: Hashable {
        var series: Int64
        var resolution: Int
        var start: Int64
    }


    /// The aggregate in `row` from column `offset` on: SampleCount, Sum, Minimum, Maximum, and (when `sketch`) the
    /// sketch.
    static func aggregate(_ row: Row, offset: Int = 0, sketch: Bool = true) throws -> MetricAggregate {
        var a = MetricAggregate()
        a.stats.sampleCount = row[offset]
        a.stats.sum = row[offset + 1]
        a.stats.minimum = row[offset + 2]
        a.stats.maximum = row[offset + 3]
        guard sketch else { return a }
        let blob: Data = row[offset + 4]
        guard let sketch = QuantileSketch(encoded: blob) else { throw StorageError(.corrupt, "unreadable metric sketch") }
        a.sketch = sketch
        return a
    }
}
