import Foundation
import Logging
import SkylensCore
import SkylensRules
import SkylensStorage

/// Runs rule test files on a virtual clock with the collector's own engine: log events go through the rules' metric
/// filters (and EMF and Lambda platform lines) into a scratch metric store, datapoints are put directly, and the alarm
/// engine ticks every 10 virtual seconds, as the scheduler does; the alarm states and the notifications the actions
/// would send are compared with the expectations. Deterministic, and as fast as the machine.
package enum RuleTestRunner {
    package struct Outcome: Sendable {
        package var name: String
        package var failures: [String]
        package var passed: Bool { failures.isEmpty }
    }

    static let defaultStart: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    static let tick: Int64 = 10_000

    package static func run(_ file: RuleTestFile, rules: RuleSet, region: String = "us-east-1", account: String = "000000000000") async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        let start = try file.start.map { text -> Int64 in
            guard let t = TimeExpression.parseISO8601(text) else { throw RuleTestFile.Invalid(description: "start '\(text)' is not an ISO 8601 time") }
            return t
        } ?? defaultStart
        for test in file.tests {
            outcomes.append(Outcome(name: test.name, failures: try await run(test, rules: rules, start: start, region: region, account: account)))
        }
        return outcomes
    }

    private static func run(_ test: RuleTestFile.Case, rules: RuleSet, start: Int64, region: String, account: String) async throws -> [String] {
        let directory = NSTemporaryDirectory() + "skylens-rule-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try SkylensDatabase(directory: directory)
        let metrics = SQLiteMetricStore(database: database)
        let alarms = SQLiteAlarmStore(database: database)
        let notifications = LockedState<[(at: Int64, notification: RuleTestFile.NotificationExpectation)]>([])
        let topics = Dictionary(rules.topics.map { ("arn:aws:sns:\(region):\(account):\($0.name)", $0.name) }, uniquingKeysWith: { a, _ in a })
        var logger = Logger(label: "rule-test")
        logger.logLevel = .error
        let engine = AlarmEngine(alarms: alarms, metrics: metrics, logger: logger) { transitions in
            notifications.withLock { list in
                for t in transitions {
                    for action in t.actions {
                        list.append((t.at, .init(topic: topics[action] ?? action, alarm: t.alarm.name, state: t.to.rawValue)))
                    }
                }
            }
        }
        let filters = try rules.metricFilters.map { d in
            (definition: d, filter: try MetricFilter(name: d.name, pattern: d.pattern, transformation: d.transformation))
        }
        for alarm in rules.alarms { try await engine.evaluate(try await alarms.put(alarm, now: start), now: start) }

        // Inputs and expectations on the virtual timeline.
        var logs = try (test.logs ?? []).map { (at: start + (try RuleTestFile.offset($0.at)), input: $0) }.sorted { $0.at < $1.at }
        var datapoints = try (test.datapoints ?? []).map { (at: start + (try RuleTestFile.offset($0.at)), input: $0) }.sorted { $0.at < $1.at }
        var alarmChecks = try (test.expect_alarms ?? []).map { (at: start + (try RuleTestFile.offset($0.at)), expectation: $0) }
            .sorted { $0.at < $1.at }
        let times = logs.map(\.at) + datapoints.map(\.at) + alarmChecks.map(\.at)
        let end = (times.max() ?? start) + tick
        var failures: [String] = []
        var now = start
        while now <= end {
            // Everything up to now goes in, then the alarms are evaluated as the scheduler would.
            var batch = LogBatch()
            var group: String?
            while let first = logs.first, first.at <= now {
                if let g = group, g != first.input.group {
                    try await ingest(batch, group: g, filters: filters, into: metrics)
                    batch = LogBatch()
                }
                group = first.input.group
                batch.append(timestamp: first.at, message: Array(first.input.message.utf8))
                logs.removeFirst()
            }
            if let group, !batch.isEmpty { try await ingest(batch, group: group, filters: filters, into: metrics) }
            var datums: [MetricDatum] = []
            while let first = datapoints.first, first.at <= now {
                let d = first.input
                datums.append(MetricDatum(namespace: d.namespace, name: d.metric, dimensions: d.dimensions ?? [:], timestamp: first.at,
                                          values: [d.value], unit: d.unit.flatMap(MetricUnit.init(rawValue:)) ?? .none))
                datapoints.removeFirst()
            }
            if !datums.isEmpty {
                try await metrics.put(datums)
                await engine.metricsChanged(datums)
            }
            await engine.tick(now: now)
            while let check = alarmChecks.first, check.at <= now {
                alarmChecks.removeFirst()
                let e = check.expectation
                guard let stored = try await alarms.alarms(names: [e.alarm], prefix: nil, state: nil).first else {
                    failures.append("no alarm named \(e.alarm) in the rules")
                    continue
                }
                if stored.state.rawValue != e.state {
                    failures.append("at \(e.at): alarm \(e.alarm) is \(stored.state.rawValue), expected \(e.state) (\(stored.reason))")
                }
            }
            now += tick
        }

        for e in test.expect_metrics ?? [] {
            let at = start + (try RuleTestFile.offset(e.at))
            let period = e.period ?? 60
            guard let statistic = Statistic(e.stat ?? "Sum") else { failures.append("unknown stat \(e.stat ?? "")"); continue }
            let points = try await metrics.aggregates(MetricQuery(series: MetricSeries(namespace: e.namespace, name: e.metric,
                                                                                      dimensions: e.dimensions ?? [:]),
                                                                  start: at, end: at + Int64(period) * 1000, periodSeconds: period))
            let value = points.points.first { $0.start == at }?.aggregate.value(statistic)
            let series = "\(e.namespace)/\(e.metric)\((e.dimensions ?? [:]).isEmpty ? "" : " \(e.dimensions ?? [:])")"
            switch (value, e.value) {
            case (nil, nil):
                break
            case (let got?, let want?) where abs(got - want) <= max(1e-9, abs(want) * 1e-9):
                break
            default:
                failures.append("metric \(series) \(e.stat ?? "Sum") at \(e.at): \(value.map { "\($0)" } ?? "no datapoint"), "
                    + "expected \(e.value.map { "\($0)" } ?? "no datapoint")")
            }
        }
        if let expected = test.expect_notifications {
            let sent = notifications.withLock { $0.map(\.notification) }
            if sent != expected {
                failures.append("notifications: \(describe(sent)), expected \(describe(expected))")
            }
        }
        return failures
    }

    private static func ingest(_ batch: LogBatch, group: String, filters: [(definition: StoredMetricFilter, filter: MetricFilter)],
                               into metrics: SQLiteMetricStore) async throws {
        let applying = filters.filter { $0.definition.applies(to: group) }.map(\.filter)
        let extracted = LogMetricExtractor.extract(group: group, filters: applying, events: batch)
        try await metrics.put(extracted.datums)
    }

    private static func describe(_ list: [RuleTestFile.NotificationExpectation]) -> String {
        list.isEmpty ? "none" : list.map { "\($0.state) \($0.alarm) → \($0.topic)" }.joined(separator: ", ")
    }
}
