import ArgumentParser
import Foundation
import Logging
import SkylensCore
import SkylensServer
import SkylensStorage

/// One alarm tick over many alarms, in process: every alarm reads its evaluation range from the metric store and is
/// evaluated (the work of the collector's AlarmScheduler at a period boundary).
struct AlarmBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alarms", abstract: "Alarms evaluated per tick, one task.")

    @Option(help: "Alarms.") var alarms = 10_000
    @Option(help: "Series they watch (alarms are spread evenly).") var series = 1_000

    func run() async throws {
        let directory = NSTemporaryDirectory() + "skylens-alarm-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try SkylensDatabase(directory: directory)
        let metrics = SQLiteMetricStore(database: database)
        let store = SQLiteAlarmStore(database: database)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let engine = AlarmEngine(alarms: store, metrics: metrics, logger: logger)
        let now = Int64(Date().timeIntervalSince1970 * 1000) / 60_000 * 60_000
        // Five minutes of data for every series.
        var datums: [MetricDatum] = []
        for s in 0..<series {
            for m in 1...5 {
                datums.append(MetricDatum(namespace: "Bench", name: "Errors", dimensions: ["Fn": "f\(s)"], timestamp: now - Int64(m) * 60_000,
                                          values: [Double((s + m) % 10)]))
            }
        }
        try await metrics.put(datums)
        try await metrics.flush()
        for a in 0..<alarms {
            let alarm = MetricAlarm(name: "alarm-\(a)", series: MetricSeries(namespace: "Bench", name: "Errors", dimensions: ["Fn": "f\(a % series)"]),
                                    statistic: a % 3 == 0 ? .percentile(99) : .average, period: 60, evaluationPeriods: 3,
                                    datapointsToAlarm: 2, threshold: Double(a % 10), comparison: .greaterThanThreshold)
            _ = try await store.put(alarm, now: now)
        }
        // The first tick evaluates every alarm and records the transitions out of INSUFFICIENT_DATA; the second, one
        // period later, evaluates every alarm again (a new boundary) and finds fewer changes.
        for (label, at) in [("first tick (every alarm leaves INSUFFICIENT_DATA)", now + 1_000), ("next period's tick", now + 61_000)] {
            let start = ContinuousClock.now
            let transitions = await engine.tick(now: at)
            let seconds = LoadGenerator.seconds(ContinuousClock.now - start)
            print(String(format: "%@: %d alarms evaluated, %d transitions, in %.3f s (%.0f alarms/s)",
                         label, alarms, transitions.count, seconds, Double(alarms) / seconds))
        }
    }
}
