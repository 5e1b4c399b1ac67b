import Foundation
import Testing
@testable import SkylensCore
@testable import SkylensStorage

final class SQLiteMetricStoreTests {
    /// The stores' directories, removed when the test's instance goes.
    private var directories: [String] = []

    deinit { for d in directories { try? FileManager.default.removeItem(atPath: d) } }

    func makeStore() throws -> SQLiteMetricStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-metrics-\(UUID().uuidString)").path
        directories.append(dir)
        return SQLiteMetricStore(database: try SkylensDatabase(directory: dir))
    }

    let t0: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000

    @Test func aggregatesByPeriodAndMatchesDimensionSetsExactly() async throws {
        let store = try makeStore()
        let dims = ["FunctionName": "orders"]
        try await store.put([
            MetricDatum(namespace: "App", name: "Latency", dimensions: dims, timestamp: t0 + 1_000, values: [10, 20]),
            MetricDatum(namespace: "App", name: "Latency", dimensions: dims, timestamp: t0 + 61_000, values: [30], counts: [2]),
            MetricDatum(namespace: "App", name: "Latency", dimensions: dims, timestamp: t0 + 121_000, values: [],
                        statisticValues: { var s = StatisticSet(); s.sampleCount = 4; s.sum = 8; s.minimum = 1; s.maximum = 3; return s }()),
            MetricDatum(namespace: "App", name: "Latency", dimensions: dims.merging(["Stage": "prod"]) { a, _ in a },
                        timestamp: t0 + 1_000, values: [1_000]),
        ])
        let series = MetricSeries(namespace: "App", name: "Latency", dimensions: dims)
        let perMinute = try await store.aggregates(MetricQuery(series: series, start: t0, end: t0 + 180_000, periodSeconds: 60)).points
        #expect(perMinute.map(\.start) == [t0, t0 + 60_000, t0 + 120_000])
        #expect(perMinute.map { $0.aggregate.stats.sum } == [30, 60, 8])
        #expect(perMinute.map { $0.aggregate.stats.sampleCount } == [2, 2, 4])
        let fiveMinutes = try await store.aggregates(MetricQuery(series: series, start: t0, end: t0 + 300_000, periodSeconds: 300)).points
        #expect(fiveMinutes.count == 1)
        #expect(fiveMinutes[0].aggregate.value(.sum) == 98)
        #expect(fiveMinutes[0].aggregate.value(.maximum) == 30)
        #expect(fiveMinutes[0].aggregate.value(.minimum) == 1)
        // A second put into the same minute merges.
        try await store.put([MetricDatum(namespace: "App", name: "Latency", dimensions: dims, timestamp: t0 + 2_000, values: [5])])
        let merged = try await store.aggregates(MetricQuery(series: series, start: t0, end: t0 + 60_000, periodSeconds: 60)).points
        #expect(merged.first?.aggregate.stats.sum == 35)
        #expect(merged.first?.aggregate.stats.sampleCount == 3)
    }

    @Test func highResolutionDatumsAnswerSubMinutePeriods() async throws {
        let store = try makeStore()
        let datums = (0..<60).map { s in
            MetricDatum(namespace: "App", name: "Hits", timestamp: t0 + Int64(s) * 1_000, values: [1], storageResolution: 1)
        }
        try await store.put(datums)
        let series = MetricSeries(namespace: "App", name: "Hits")
        let tenSeconds = try await store.aggregates(MetricQuery(series: series, start: t0, end: t0 + 60_000, periodSeconds: 10)).points
        #expect(tenSeconds.count == 6)
        #expect(tenSeconds.allSatisfy { $0.aggregate.stats.sum == 10 })
        let minute = try await store.aggregates(MetricQuery(series: series, start: t0, end: t0 + 60_000, periodSeconds: 60)).points
        #expect(minute.first?.aggregate.stats.sum == 60)
    }

    @Test func listsSeriesByNamespaceNameDimensionsAndActivity() async throws {
        let store = try makeStore()
        try await store.put([
            MetricDatum(namespace: "A", name: "x", dimensions: ["k": "1"], timestamp: t0, values: [1]),
            MetricDatum(namespace: "A", name: "x", dimensions: ["k": "2"], timestamp: t0 - 10 * 3_600_000, values: [1]),
            MetricDatum(namespace: "A", name: "y", timestamp: t0, values: [1]),
            MetricDatum(namespace: "B", name: "x", dimensions: ["k": "1", "j": "0"], timestamp: t0, values: [1]),
        ])
        #expect(try await store.listSeries(namespace: "A", name: nil, dimensions: [], activeSince: nil).count == 3)
        #expect(try await store.listSeries(namespace: nil, name: "x", dimensions: [("k", "1")], activeSince: nil).count == 2)
        #expect(try await store.listSeries(namespace: nil, name: nil, dimensions: [("j", nil)], activeSince: nil).map(\.namespace) == ["B"])
        #expect(try await store.listSeries(namespace: "A", name: "x", dimensions: [], activeSince: t0 - 3 * 3_600_000).count == 1)
    }
}

struct SQLiteMetricRetentionTests {
    let now: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000
    let day: Int64 = 86_400_000

    @Test func retentionRollsUpAndExpiresByResolution() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-retention-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SQLiteMetricStore(database: try SkylensDatabase(directory: dir))
        let series = MetricSeries(namespace: "App", name: "Hits")
        func datum(_ ts: Int64, _ v: Double, resolution: Int = 60) -> MetricDatum {
            MetricDatum(namespace: "App", name: "Hits", timestamp: ts, values: [v], storageResolution: resolution)
        }
        let recentHighRes = now - 4 * 3_600_000
        let sixteenDays = now - 16 * day
        let seventyDays = now - 70 * day
        let fiveHundredDays = now - 500 * day
        try await store.put([
            datum(recentHighRes, 1, resolution: 1),
            datum(sixteenDays, 2), datum(sixteenDays + 60_000, 3),
            datum(seventyDays, 4), datum(fiveHundredDays, 5),
        ])
        func sum(_ start: Int64, period: Int) async throws -> Double? {
            try await store.aggregates(MetricQuery(series: series, start: start, end: start + Int64(period) * 1000, periodSeconds: period))
                .points.first?.aggregate.stats.sum
        }
        #expect(try await sum(recentHighRes, period: 1) == 1)
        #expect(try await sum(sixteenDays, period: 60) == 2)
        #expect(try await store.sweepExpired(now: now) > 0)
        // Per-second data is gone after 3 hours; the per-minute copy stays.
        #expect(try await sum(recentHighRes, period: 1) == nil)
        #expect(try await sum(MetricPeriod.start(of: recentHighRes, period: 60), period: 60) == 1)
        // After 15 days minutes become 5-minute buckets: a 60 s period finds nothing, a 300 s period the whole sum.
        #expect(try await sum(sixteenDays, period: 60) == nil)
        #expect(try await sum(MetricPeriod.start(of: sixteenDays, period: 300), period: 300) == 5)
        // After 63 days, hours; after 455 days, nothing.
        #expect(try await sum(MetricPeriod.start(of: seventyDays, period: 3600), period: 3600) == 4)
        #expect(try await sum(MetricPeriod.start(of: fiveHundredDays, period: 3600), period: 3600) == nil)
        // A second sweep finds nothing more to do.
        #expect(try await store.sweepExpired(now: now) == 0)
    }
}

/// The metric journal: commits are durable before their buckets are rewritten, and a restart replays them.
struct MetricJournalTests {
    let t0: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000

    @Test func rowsRoundTrip() {
        var stats = StatisticSet()
        stats.add(1)
        stats.add(4)
        let entries: [MetricJournal.Entry] = [
            .init(series: 1, datum: MetricDatum(namespace: "", name: "", timestamp: t0, values: [1.5, -2], counts: [3, 1],
                                                unit: .milliseconds, storageResolution: 1)),
            .init(series: 300, datum: MetricDatum(namespace: "", name: "", timestamp: t0 - 5, values: [], statisticValues: stats,
                                                  unit: .milliseconds)),
            .init(series: 2, datum: MetricDatum(namespace: "", name: "", timestamp: 0, values: [0], unit: .none)),
        ]
        let row = MetricJournal.encode(entries)
        #expect(MetricJournal.decode(row) == entries)
        #expect(MetricJournal.decode(Array(row.dropLast())) == nil)
        #expect(MetricJournal.decode([2, 0]) == nil)
    }

    @Test func unflushedCommitsSurviveARestartAndFlushOnce() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let series = MetricSeries(namespace: "App", name: "Hits", dimensions: ["k": "v"])
        do {
            // A store that never flushes on its own: everything stays in the journal.
            let store = SQLiteMetricStore(database: try SkylensDatabase(directory: dir), maxOpenBuckets: .max, maxJournalBytes: .max)
            for k in 0..<3 {
                try await store.put([MetricDatum(namespace: "App", name: "Hits", dimensions: ["k": "v"], timestamp: t0 + Int64(k) * 1_000,
                                                 values: [Double(k + 1)], unit: .count)])
            }
            let journalRows = try await store.database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM metric_journal") }
            let pointRows = try await store.database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM metric_point") }
            #expect(journalRows == 3)
            #expect(pointRows == 0)
        }
        // A new store on the same files (a restart) replays the journal; its first read flushes it exactly once.
        let reopened = SQLiteMetricStore(database: try SkylensDatabase(directory: dir))
        let points = try await reopened.aggregates(MetricQuery(series: series, start: t0, end: t0 + 60_000, periodSeconds: 60))
        #expect(points.points.map { $0.aggregate.stats.sum } == [6])
        #expect(points.unit == .count)
        try await reopened.flush()
        let again = try await reopened.aggregates(MetricQuery(series: series, start: t0, end: t0 + 60_000, periodSeconds: 60))
        #expect(again.points.map { $0.aggregate.stats.sampleCount } == [3])
        let journalRows = try await reopened.database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM metric_journal") }
        #expect(journalRows == 0)
        #expect(try await reopened.listSeries(namespace: "App", name: nil, dimensions: [], activeSince: t0 + 2_000) == [series])
    }

    @Test func aFlushTriggeredByTheLimitKeepsEveryDatum() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SQLiteMetricStore(database: try SkylensDatabase(directory: dir), maxOpenBuckets: 2, maxJournalBytes: .max)
        for minute in 0..<10 {
            try await store.put([MetricDatum(namespace: "App", name: "Hits", timestamp: t0 + Int64(minute) * 60_000, values: [1])])
        }
        let points = try await store.aggregates(MetricQuery(series: MetricSeries(namespace: "App", name: "Hits"), start: t0,
                                                            end: t0 + 600_000, periodSeconds: 600))
        #expect(points.points.map { $0.aggregate.stats.sampleCount } == [10])
    }
}
