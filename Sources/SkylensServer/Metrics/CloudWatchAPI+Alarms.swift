import SkylensCore
import SkylensWire

/// The alarm operations of the CloudWatch API: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric,
/// DescribeAlarmHistory, SetAlarmState, DeleteAlarms, EnableAlarmActions and DisableAlarmActions.
extension CloudWatchAPI {
    func alarmsOrFail() throws -> AlarmService {
        guard let alarms else { throw CloudWatchError(.unknownOperation, "Alarms are not enabled in this collector.") }
        return alarms
    }

    func putMetricAlarm(_ body: WireValue) async throws -> WireValue {
        let service = try alarmsOrFail()
        let alarm = try CloudWatchRequests.putMetricAlarm(body)
        let now = wallClock.nowMillis()
        let stored = try await service.store.put(alarm, now: now)
        // A new or changed alarm is evaluated at once.
        try await service.engine.evaluate(stored, now: now)
        return .map([])
    }

    func describeAlarms(_ body: WireValue) async throws -> WireValue {
        let service = try alarmsOrFail()
        let names = try CloudWatchRequests.alarmNames(body, required: false)
        let prefix = body["AlarmNamePrefix"]?.string
        if names != nil, prefix != nil {
            throw CloudWatchError(.invalidParameterCombination, "AlarmNames and AlarmNamePrefix cannot be used together.")
        }
        let state = try CloudWatchRequests.stateValue(body, required: false)
        let types = body["AlarmTypes"]?.array?.compactMap(\.string) ?? ["MetricAlarm"]
        let offset = try CloudWatchRequests.offsetToken(body)
        let limit = try CloudWatchRequests.maxRecords(body)
        let all = types.contains("MetricAlarm") ? try await service.store.alarms(names: names, prefix: prefix, state: state) : []
        return page(all, offset: offset, limit: limit, key: "MetricAlarms", extra: [("CompositeAlarms", .array([]))])
    }

    func describeAlarmsForMetric(_ body: WireValue) async throws -> WireValue {
        let service = try alarmsOrFail()
        guard let namespace = body["Namespace"]?.string else { throw CloudWatchError.missing("Namespace") }
        guard let name = body["MetricName"]?.string else { throw CloudWatchError.missing("MetricName") }
        let dimensions = try CloudWatchRequests.dimensions(body["Dimensions"], at: "Dimensions", requireValues: true)
        let series = MetricSeries(namespace: namespace, name: name, dimensions: dimensions)
        let statistic = (body["Statistic"]?.string ?? body["ExtendedStatistic"]?.string).flatMap(Statistic.init)
        let period = body["Period"]?.number.map(Int.init)
        let unit = body["Unit"]?.string.flatMap(MetricUnit.init(rawValue:))
        let matching = try await service.store.alarms(names: nil, prefix: nil, state: nil).filter { s in
            s.alarm.series == series && (statistic.map { $0 == s.alarm.statistic } ?? true)
                && (period.map { $0 == s.alarm.period } ?? true) && (unit.map { $0 == s.alarm.unit } ?? true)
        }
        return .map([("MetricAlarms", .array(matching.map { AlarmDocuments.metricAlarm($0, region: region, account: account) }))])
    }

    func describeAlarmHistory(_ body: WireValue) async throws -> WireValue {
        let service = try alarmsOrFail()
        var kind: AlarmHistoryItem.Kind?
        if let text = body["HistoryItemType"]?.string {
            guard let k = AlarmHistoryItem.Kind(rawValue: text) else {
                throw CloudWatchError.invalid("HistoryItemType", text, "It must be ConfigurationUpdate, StateUpdate or Action.")
            }
            kind = k
        }
        let offset = try CloudWatchRequests.offsetToken(body)
        let limit = try CloudWatchRequests.maxRecords(body)
        var items = try await service.store.history(name: body["AlarmName"]?.string, kind: kind, start: body["StartDate"]?.epochMillis,
                                                    end: body["EndDate"]?.epochMillis, limit: offset + limit + 1)
        if body["ScanBy"]?.string == "TimestampAscending" { items.reverse() }
        let pageItems = items.dropFirst(offset).prefix(limit)
        var members: [(String, WireValue)] = [("AlarmHistoryItems", .array(pageItems.map(AlarmDocuments.historyItem)))]
        if items.count > offset + limit { members.append(("NextToken", .string("a/\(offset + limit)"))) }
        return .map(members)
    }

    func setAlarmState(_ body: WireValue) async throws -> WireValue {
        let service = try alarmsOrFail()
        guard let name = body["AlarmName"]?.string else { throw CloudWatchError.missing("AlarmName") }
        let state = try CloudWatchRequests.stateValue(body, required: true)!
        guard let reason = body["StateReason"]?.string else { throw CloudWatchError.missing("StateReason") }
        var reasonData: String?
        if let data = body["StateReasonData"]?.string {
            guard (try? JSONValue.parse(data))?.isObject == true else {
                throw CloudWatchError.invalid("StateReasonData", data, "It must be a JSON object.")
            }
            reasonData = data
        }
        _ = try await service.engine.setState(name: name, state: state, reason: reason, reasonData: reasonData, now: wallClock.nowMillis())
        return .map([])
    }

    func deleteAlarms(_ body: WireValue) async throws -> WireValue {
        let service = try alarmsOrFail()
        let names = try CloudWatchRequests.alarmNames(body, required: true) ?? []
        let missing = try await service.store.delete(names: names)
        await service.engine.forget(names)
        if let first = missing.first { throw CloudWatchError(.resourceNotFound, "Alarm \(first) not found.") }
        return .map([])
    }

    func setAlarmActions(_ body: WireValue, enabled: Bool) async throws -> WireValue {
        let service = try alarmsOrFail()
        let names = try CloudWatchRequests.alarmNames(body, required: true) ?? []
        _ = try await service.store.setActionsEnabled(names: names, enabled: enabled, now: wallClock.nowMillis())
        return .map([])
    }

    private func page(_ all: [StoredAlarm], offset: Int, limit: Int, key: String, extra: [(String, WireValue)]) -> WireValue {
        let slice = all.dropFirst(offset).prefix(limit)
        var members: [(String, WireValue)] = [(key, .array(slice.map { AlarmDocuments.metricAlarm($0, region: region, account: account) }))]
        members += extra
        if all.count > offset + limit { members.append(("NextToken", .string("a/\(offset + limit)"))) }
        return .map(members)
    }
}

/// What the alarm operations need: the alarm store and the engine that evaluates alarms.
package struct AlarmService: Sendable {
    package let store: any AlarmStore
    package let engine: AlarmEngine

    package init(store: any AlarmStore, engine: AlarmEngine) {
        self.store = store
        self.engine = engine
    }
}
