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

    package struct Transition: Sendable, Equatable {
        package var alarm: String
        package var from: AlarmState
        package var to: AlarmState
        package var reason: String
        /// The actions the change runs (none when actions are disabled).
        package var actions: [String]
    }

    package init(alarms: any AlarmStore, metrics: any MetricStore, logger: Logger) {
        self.alarms = alarms
        self.metrics = metrics
        self.logger = logger
    }

    /// Notes datapoints written to these series: alarms reading them are evaluated at the next tick.
    package func metricsChanged(_ series: [MetricSeries]) {
        changedSeries.formUnion(series)
    }

    /// Evaluates every alarm whose data end moved past a period boundary, or whose series received datapoints.
    @discardableResult
    package func tick(now: Int64) async -> [Transition] {
        let changed = changedSeries
        changedSeries = []
        var transitions: [Transition] = []
        do {
            for stored in try await alarms.alarms(names: nil, prefix: nil, state: nil) {
                let end = AlarmEvaluator.dataEnd(stored.alarm, now: now)
                guard evaluatedUpTo[stored.alarm.name] != end || changed.contains(stored.alarm.series) else { continue }
                if let t = try await evaluate(stored, now: now) { transitions.append(t) }
            }
        } catch {
            logger.error("alarm evaluation failed", metadata: ["error": "\(error)"])
        }
        return transitions
    }

    /// Evaluates one alarm now and stores a change of state.
    @discardableResult
    package func evaluate(_ stored: StoredAlarm, now: Int64) async throws -> Transition? {
        let alarm = stored.alarm
        evaluatedUpTo[alarm.name] = AlarmEvaluator.dataEnd(alarm, now: now)
        let (first, _) = AlarmEvaluator.window(alarm, now: now)
        let data = try await metrics.aggregates(MetricQuery(series: alarm.series, start: first, end: AlarmEvaluator.dataEnd(alarm, now: now),
                                                            periodSeconds: alarm.period, needsPercentiles: alarm.isExtendedStatistic))
        // An alarm with a Unit reads only data published in that unit.
        let points = alarm.unit.map { $0 == data.unit } ?? true ? data.points : []
        let range = AlarmEvaluator.range(alarm, aggregates: points, now: now)
        let outcome = AlarmEvaluator.evaluate(alarm, current: stored.state, range: range, now: now)
        guard let reason = outcome.reason, outcome.state != stored.state else { return nil }
        let reasonData = outcome.reasonData.map(AlarmDocuments.reasonDataJSON)
        return try await record(stored, to: outcome.state, reason: reason, reasonData: reasonData, now: now)
    }

    /// SetAlarmState: the state is set as given (it holds until the next evaluation changes it).
    package func setState(name: String, state: AlarmState, reason: String, reasonData: String?, now: Int64) async throws -> Transition? {
        guard let stored = try await alarms.alarms(names: [name], prefix: nil, state: nil).first else {
            throw CloudWatchError(.resourceNotFound, "Alarm \(name) not found.")
        }
        return try await record(stored, to: state, reason: reason, reasonData: reasonData, now: now)
    }

    private func record(_ stored: StoredAlarm, to state: AlarmState, reason: String, reasonData: String?, now: Int64) async throws -> Transition {
        let name = stored.alarm.name
        let item = AlarmHistoryItem(
            alarmName: name, timestamp: now, kind: .stateUpdate,
            summary: "Alarm updated from \(stored.state.rawValue) to \(state.rawValue)",
            data: AlarmDocuments.stateUpdateJSON(old: (stored.state, stored.reason), new: (state, reason), reasonData: reasonData))
        guard try await alarms.setState(name: name, state: state, reason: reason, reasonData: reasonData, history: item, now: now) else {
            throw CloudWatchError(.resourceNotFound, "Alarm \(name) not found.")
        }
        let transition = Transition(alarm: name, from: stored.state, to: state, reason: reason,
                                    actions: stored.alarm.actionsToRun(from: stored.state, to: state))
        logger.info("alarm state changed", metadata: ["alarm.name": "\(name)", "alarm.from": "\(stored.state.rawValue)",
                                                      "alarm.to": "\(state.rawValue)"])
        return transition
    }

    /// Forgets an alarm's schedule (after DeleteAlarms).
    package func forget(_ names: [String]) {
        for name in names { evaluatedUpTo[name] = nil }
    }
}
