import Logging
import SkylensCore
import SkylensWire

/// Runs the pure ``AlarmEvaluator`` against stored alarms and metrics and records what changes: state, reason,
/// StateReasonData and a StateUpdate history item, in one transaction. Alarms are evaluated when they are put, at
/// every new period boundary (``tick(now:)``, driven by ``AlarmScheduler``), and again after datapoints arrive for a
/// series they read (late datapoints included), so nothing depends on when data was published.
package actor AlarmEngine {
    let alarms: any AlarmStore
    let metrics: any MetricStore
    let logger: Logger
    /// The data end each alarm was last evaluated at: a new period boundary means a new evaluation.
    private var evaluatedUpTo: [String: Int64] = [:]
    /// Series that received datapoints since the last tick.
    private var changedSeries: Set<MetricSeries> = []
    /// The metric names alarms read (a superset: names of deleted alarms stay): datapoints of other metrics need no
    /// note, which keeps PutMetricData from hashing every datum's series when no alarm reads it. An alarm is
    /// evaluated when it is put (its names join then) and at every tick (all alarms' names join then).
    private var watchedNames: Set<String> = []

    package struct Transition: Sendable, Equatable {
        package var alarm: MetricAlarm
        package var from: AlarmState
        package var to: AlarmState
        package var reason: String
        /// When the state changed (epoch ms).
        package var at: Int64
        package var configurationUpdated: Int64
        /// The actions the change runs (none when actions are disabled).
        package var actions: [String]
    }

    /// Hears every state change once it is stored (the notifier runs their actions).
    private let onTransitions: (@Sendable ([Transition]) async -> Void)?

    package init(alarms: any AlarmStore, metrics: any MetricStore, logger: Logger,
                 onTransitions: (@Sendable ([Transition]) async -> Void)? = nil) {
        self.alarms = alarms
        self.metrics = metrics
        self.logger = logger
        self.onTransitions = onTransitions
    }

    /// Notes datapoints written: alarms reading their series are evaluated at the next tick.
    package func metricsChanged(_ datums: [MetricDatum]) {
        for datum in datums where watchedNames.contains(datum.name) { changedSeries.insert(datum.series) }
    }

    /// Evaluates every alarm whose data end moved past a period boundary, or whose series received datapoints: their
    /// ranges are read in one transaction and their changes stored in one.
    @discardableResult
    package func tick(now: Int64) async -> [Transition] {
        let changed = changedSeries
        changedSeries = []
        do {
            let all = try await alarms.alarms(names: nil, prefix: nil, state: nil)
            for stored in all { watchedNames.formUnion(stored.alarm.watchedSeries.map(\.name)) }
            let due = all.filter { stored in
                evaluatedUpTo[stored.alarm.name] != AlarmEvaluator.dataEnd(stored.alarm, now: now)
                    || stored.alarm.watchedSeries.contains(where: changed.contains)
            }
            return try await evaluate(due, now: now)
        } catch {
            logger.error("alarm evaluation failed", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Evaluates one alarm now and stores a change of state.
    @discardableResult
    package func evaluate(_ stored: StoredAlarm, now: Int64) async throws -> Transition? {
        try await evaluate([stored], now: now).first
    }

    private func evaluate(_ due: [StoredAlarm], now: Int64) async throws -> [Transition] {
        guard !due.isEmpty else { return [] }
        // Before reading: datapoints committed from now on are noted for these alarms.
        for stored in due { watchedNames.formUnion(stored.alarm.watchedSeries.map(\.name)) }
        // Every due alarm's reads, in one batch: one query for an alarm on a metric, one per metric query of a
        // metric-math alarm (with 14 days of history for an anomaly band).
        let reads = due.map { Self.queries($0.alarm, now: now) }
        var results = try await metrics.aggregates(reads.flatMap { $0.map(\.query) })[...]
        var changes: [(StoredAlarm, AlarmState, String, String?)] = []
        for (stored, alarmReads) in zip(due, reads) {
            let alarm = stored.alarm
            let data = Array(results.prefix(alarmReads.count))
            results = results.dropFirst(alarmReads.count)
            evaluatedUpTo[alarm.name] = AlarmEvaluator.dataEnd(alarm, now: now)
            let range: [AlarmPoint]
            if alarm.isMathAlarm {
                var values: [String: [Int64: Double]] = [:]
                for (read, points) in zip(alarmReads, data) {
                    let usable = read.unit.map { $0 == points.unit } ?? true ? points.points : []
                    values[read.id] = Dictionary(usable.compactMap { p in p.aggregate.value(read.statistic).map { (p.start, $0) } },
                                                 uniquingKeysWith: { a, _ in a })
                }
                do {
                    range = try AlarmEvaluator.mathRange(alarm, data: values, now: now)
                } catch {
                    logger.warning("alarm metrics could not be evaluated", metadata: ["alarm.name": "\(alarm.name)", "error": "\(error.message)"])
                    continue
                }
            } else {
                // An alarm with a Unit reads only data published in that unit.
                let points = alarm.unit.map { $0 == data[0].unit } ?? true ? data[0].points : []
                range = AlarmEvaluator.range(alarm, aggregates: points, now: now)
            }
            let outcome = AlarmEvaluator.evaluate(alarm, current: stored.state, range: range, now: now)
            guard let reason = outcome.reason, outcome.state != stored.state else { continue }
            changes.append((stored, outcome.state, reason, outcome.reasonData.map(AlarmDocuments.reasonDataJSON)))
        }
        return try await record(changes, now: now)
    }

    /// What one alarm reads at `now`.
    private static func queries(_ alarm: MetricAlarm, now: Int64) -> [(id: String, query: MetricQuery, statistic: Statistic, unit: MetricUnit?)] {
        let first = AlarmEvaluator.window(alarm, now: now).first
        let end = AlarmEvaluator.dataEnd(alarm, now: now)
        guard alarm.isMathAlarm else {
            return [("", MetricQuery(series: alarm.series, start: first, end: end, periodSeconds: alarm.period,
                                     needsPercentiles: alarm.isExtendedStatistic), alarm.statistic, alarm.unit)]
        }
        let history = alarm.thresholdMetricId == nil ? 0 : Int64(AnomalyDetectionBand.historyDays) * 86_400_000
        return alarm.metrics.compactMap { m in
            guard case .metric(let series, let period, let statistic, let unit) = m.source else { return nil }
            let percentile = if case .percentile = statistic { true } else { false }
            return (m.id, MetricQuery(series: series, start: first - history, end: end, periodSeconds: period, needsPercentiles: percentile),
                    statistic, unit)
        }
    }

    /// SetAlarmState: the state is set as given (it holds until the next evaluation changes it).
    package func setState(name: String, state: AlarmState, reason: String, reasonData: String?, now: Int64) async throws -> Transition? {
        guard let stored = try await alarms.alarms(names: [name], prefix: nil, state: nil).first else {
            throw CloudWatchError(.resourceNotFound, "Alarm \(name) not found.")
        }
        return try await record([(stored, state, reason, reasonData)], now: now).first
    }

    private func record(_ changes: [(stored: StoredAlarm, state: AlarmState, reason: String, reasonData: String?)], now: Int64) async throws -> [Transition] {
        let rows = changes.map { c in
            AlarmStateChange(
                name: c.stored.alarm.name, state: c.state, reason: c.reason, reasonData: c.reasonData,
                history: AlarmHistoryItem(
                    alarmName: c.stored.alarm.name, timestamp: now, kind: .stateUpdate,
                    summary: "Alarm updated from \(c.stored.state.rawValue) to \(c.state.rawValue)",
                    data: AlarmDocuments.stateUpdateJSON(old: (c.stored.state, c.stored.reason), new: (c.state, c.reason),
                                                         reasonData: c.reasonData)))
        }
        let missing = Set(try await alarms.setStates(rows, now: now))
        var transitions: [Transition] = []
        for c in changes where !missing.contains(c.stored.alarm.name) {
            let name = c.stored.alarm.name
            transitions.append(Transition(alarm: c.stored.alarm, from: c.stored.state, to: c.state, reason: c.reason, at: now,
                                          configurationUpdated: c.stored.configurationUpdated,
                                          actions: c.stored.alarm.actionsToRun(from: c.stored.state, to: c.state)))
            logger.info("alarm state changed", metadata: ["alarm.name": "\(name)", "alarm.from": "\(c.stored.state.rawValue)",
                                                          "alarm.to": "\(c.state.rawValue)"])
        }
        if !transitions.isEmpty, let onTransitions { await onTransitions(transitions) }
        if let name = missing.first { throw CloudWatchError(.resourceNotFound, "Alarm \(name) not found.") }
        return transitions
    }

    /// Forgets an alarm's schedule (after DeleteAlarms).
    package func forget(_ names: [String]) {
        for name in names { evaluatedUpTo[name] = nil }
    }
}
