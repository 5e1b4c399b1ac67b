import Foundation
import GRDB
import SkylensCore

/// The SQLite implementation of the `MetricStore` port.
///
/// ```
/// metric_series (namespace, name, canonical dims) ──< metric_point (resolution 1 s | 60 s, bucket start,
///                                                                  SampleCount, Sum, Min, Max, sketch)
/// ```
/// A write merges each datum into its buckets; a read merges the buckets a period covers. Per-second buckets are
/// kept for high-resolution datums (StorageResolution 1) and answer periods under a minute.
package final class SQLiteMetricStore: MetricStore {
    package let database: SkylensDatabase

    package init(database: SkylensDatabase) { self.database = database }

    package func put(_ datums: [MetricDatum]) async throws {
        guard !datums.isEmpty else { return }
        // Merge in memory first: many datums of one request often share a bucket.
        var buckets: [BucketKey: MetricAggregate] = [:]
        var lastSeen: [MetricSeries: (ts: Int64, unit: MetricUnit)] = [:]
        for datum in datums {
            let aggregate = datum.aggregate
            let series = datum.series
            lastSeen[series] = (max(lastSeen[series]?.ts ?? .min, datum.timestamp), datum.unit)
            buckets[BucketKey(series: series, resolution: 60, start: MetricPeriod.start(of: datum.timestamp, period: 60)), default: .init()]
                .merge(aggregate)
            if datum.storageResolution == 1 {
                buckets[BucketKey(series: series, resolution: 1, start: MetricPeriod.start(of: datum.timestamp, period: 1)), default: .init()]
                    .merge(aggregate)
            }
        }
        let pending = buckets
        let seen = lastSeen
        try await database.pool.write { db in
            var ids: [MetricSeries: Int64] = [:]
            for (series, latest) in seen {
                try db.execute(sql: """
                    INSERT INTO metric_series (namespace, name, dims, unit, last_ts) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (namespace, name, dims) DO UPDATE SET last_ts = max(last_ts, excluded.last_ts), unit = excluded.unit
                    """, arguments: [series.namespace, series.name, series.canonicalDimensions, latest.unit.rawValue, latest.ts])
                ids[series] = try Int64.fetchOne(db, sql: "SELECT id FROM metric_series WHERE namespace = ? AND name = ? AND dims = ?",
                                                 arguments: [series.namespace, series.name, series.canonicalDimensions])
            }
            let read = try db.cachedStatement(sql: """
                SELECT sample_count, sum, minimum, maximum, sketch FROM metric_point WHERE series_id = ? AND resolution = ? AND start = ?
                """)
            let write = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO metric_point (series_id, resolution, start, sample_count, sum, minimum, maximum, sketch)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (key, aggregate) in pending {
                guard let id = ids[key.series] else { continue }
                var merged = aggregate
                if let row = try Row.fetchOne(read, arguments: [id, key.resolution, key.start]) {
                    merged.merge(try Self.aggregate(row))
                }
                try write.execute(arguments: [id, key.resolution, key.start, merged.stats.sampleCount, merged.stats.sum,
                                              merged.stats.minimum, merged.stats.maximum, Data(merged.sketch.encoded)])
            }
        }
    }

    package func aggregates(_ query: MetricQuery) async throws -> MetricPoints {
        let resolutions = MetricRetention.resolutions(forPeriod: query.periodSeconds)
        let first = MetricPeriod.start(of: query.start, period: resolutions.max() ?? 60)
        // Rows are not Sendable: decode them inside the read so that the asynchronous read is used.
        let (unit, buckets) = try await database.pool.read { db -> (String, [(Int64, MetricAggregate)]) in
            guard let series = try Row.fetchOne(db, sql: "SELECT id, unit FROM metric_series WHERE namespace = ? AND name = ? AND dims = ?",
                                                arguments: [query.series.namespace, query.series.name, query.series.canonicalDimensions])
            else { return ("None", []) }
            let id: Int64 = series[0]
            return (series[1], try Row.fetchAll(db, sql: """
                SELECT start, sample_count, sum, minimum, maximum, sketch FROM metric_point
                WHERE series_id = ? AND resolution IN (\(resolutions.map(String.init).joined(separator: ","))) AND start >= ? AND start < ?
                ORDER BY start
                """, arguments: [id, first, query.end])
                .map { ($0[0], try Self.aggregate($0, offset: 1)) })
        }
        var periods: [Int64: MetricAggregate] = [:]
        for (start, aggregate) in buckets {
            let periodStart = MetricPeriod.start(of: start, period: query.periodSeconds)
            guard periodStart + Int64(query.periodSeconds) * 1000 > query.start else { continue }
            periods[periodStart, default: MetricAggregate()].merge(aggregate)
        }
        return MetricPoints(unit: MetricUnit(rawValue: unit) ?? .none,
                            points: periods.sorted { $0.key < $1.key }.map { (start: $0.key, aggregate: $0.value) })
    }

    package func listSeries(namespace: String?, name: String?, dimensions: [(name: String, value: String?)],
                            activeSince: Int64?) async throws -> [MetricSeries] {
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
        try await database.pool.write { db in
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
                    rolled[BucketID(series: row[0], start: MetricPeriod.start(of: start, period: coarser)), default: .init()]
                        .merge(try Self.aggregate(row, offset: 2))
                }
                let read = try db.cachedStatement(sql: """
                    SELECT sample_count, sum, minimum, maximum, sketch FROM metric_point WHERE series_id = ? AND resolution = ? AND start = ?
                    """)
                let write = try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO metric_point (series_id, resolution, start, sample_count, sum, minimum, maximum, sketch)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for (bucket, aggregate) in rolled {
                    var merged = aggregate
                    if let existing = try Row.fetchOne(read, arguments: [bucket.series, coarser, bucket.start]) {
                        merged.merge(try Self.aggregate(existing))
                    }
                    try write.execute(arguments: [bucket.series, coarser, bucket.start, merged.stats.sampleCount, merged.stats.sum,
                                                  merged.stats.minimum, merged.stats.maximum, Data(merged.sketch.encoded)])
                }
                try db.execute(sql: "DELETE FROM metric_point WHERE resolution = ? AND start < ?", arguments: [step.resolution, limit])
                changed += db.changesCount
            }
            return changed
        }
    }

    // MARK: helpers

    struct BucketID: Hashable {
        var series: Int64
        var start: Int64
    }

    struct BucketKey: Hashable {
        var series: MetricSeries
        var resolution: Int
        var start: Int64
    }

    static func aggregate(_ row: Row, offset: Int = 0) throws -> MetricAggregate {
        var a = MetricAggregate()
        a.stats.sampleCount = row[offset]
        a.stats.sum = row[offset + 1]
        a.stats.minimum = row[offset + 2]
        a.stats.maximum = row[offset + 3]
        let blob: Data = row[offset + 4]
        guard let sketch = QuantileSketch(encoded: blob) else { throw StorageError(.corrupt, "unreadable metric sketch") }
        a.sketch = sketch
        return a
    }
}
