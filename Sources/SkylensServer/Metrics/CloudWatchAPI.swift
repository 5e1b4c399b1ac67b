import SkylensCore
import SkylensWire

/// The CloudWatch metrics API over protocol-neutral documents: the same handler answers AWS JSON 1.0 and
/// smithy-rpc-v2-cbor requests.
package struct CloudWatchAPI: Sendable {
    /// The `X-Amz-Target` prefix (JSON 1.0) and service name in rpc-v2 paths.
    package static let service = "GraniteServiceVersion20100801"
    /// The query protocol's `Version` and XML namespace.
    package static let apiVersion = "2010-08-01"
    package static let xmlNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/"
    /// Output members that are maps, not structures (the query protocol writes them as `<entry>` lists).
    package static let mapMembers: Set<String> = ["ExtendedStatistics"]

    let store: any MetricStore
    let wallClock: any WallClock
    let alarms: AlarmService?
    let region: String
    let account: String

    package init(store: any MetricStore, wallClock: any WallClock, alarms: AlarmService? = nil, region: String = "us-east-1",
                 account: String = "000000000000") {
        self.store = store
        self.wallClock = wallClock
        self.alarms = alarms
        self.region = region
        self.account = account
    }

    package func handle(operation: String, body: WireValue) async throws(CloudWatchError) -> WireValue {
        do {
            switch operation {
            case "PutMetricData": return try await putMetricData(body)
            case "GetMetricStatistics": return try await getMetricStatistics(body)
            case "ListMetrics": return try await listMetrics(body)
            case "GetMetricData": return try await getMetricData(body)
            case "PutMetricAlarm": return try await putMetricAlarm(body)
            case "DescribeAlarms": return try await describeAlarms(body)
            case "DescribeAlarmsForMetric": return try await describeAlarmsForMetric(body)
            case "DescribeAlarmHistory": return try await describeAlarmHistory(body)
            case "SetAlarmState": return try await setAlarmState(body)
            case "DeleteAlarms": return try await deleteAlarms(body)
            case "EnableAlarmActions": return try await setAlarmActions(body, enabled: true)
            case "DisableAlarmActions": return try await setAlarmActions(body, enabled: false)
            default:
                throw CloudWatchError(.unknownOperation, "Operation \(operation) is not supported by Skylens yet.")
            }
        } catch let error as CloudWatchError {
            throw error
        } catch {
            throw CloudWatchError(.internalFailure, "Internal error: \(error)")
        }
    }

    func putMetricData(_ body: WireValue) async throws -> WireValue {
        try await put(CloudWatchRequests.putMetricData(body, now: wallClock.nowMillis()))
    }

    /// PutMetricData from an AWS JSON body (what the SDKs send), without a document for the whole body.
    package func putMetricData(json bytes: [UInt8]) async throws(CloudWatchError) -> WireValue {
        let now = wallClock.nowMillis()
        let parsed = bytes.withUnsafeBytes { buffer in
            Result { () throws(CloudWatchError) in try CloudWatchRequests.putMetricData(json: buffer, now: now) }
        }
        let datums = try parsed.get()
        do {
            return try await put(datums)
        } catch let error as CloudWatchError {
            throw error
        } catch {
            throw CloudWatchError(.internalFailure, "Internal error: \(error)")
        }
    }

    private func put(_ datums: [MetricDatum]) async throws -> WireValue {
        try await store.put(datums)
        return .map([])
    }

    func getMetricStatistics(_ body: WireValue) async throws -> WireValue {
        let r = try CloudWatchRequests.getMetricStatistics(body)
        let data = try await store.aggregates(MetricQuery(series: r.series, start: r.start, end: r.end, periodSeconds: r.period))
        // A Unit filter that differs from the series' unit selects nothing, as in CloudWatch.
        let points = r.unit.map { $0 == data.unit } ?? true ? data.points : []
        var datapoints: [WireValue] = []
        for (start, aggregate) in points {
            var members: [(String, WireValue)] = [("Timestamp", .timestamp(Double(start) / 1000))]
            for statistic in r.statistics {
                if let v = aggregate.value(statistic) { members.append((statistic.description, .double(v))) }
            }
            if !r.extended.isEmpty {
                var extended: [(String, WireValue)] = []
                for statistic in r.extended {
                    if let v = aggregate.value(statistic) { extended.append((statistic.description, .double(v))) }
                }
                members.append(("ExtendedStatistics", .map(extended)))
            }
            members.append(("Unit", .string(data.unit.rawValue)))
            datapoints.append(.map(members))
        }
        return .map([("Label", .string(r.series.name)), ("Datapoints", .array(datapoints))])
    }

    func listMetrics(_ body: WireValue) async throws -> WireValue {
        let r = try CloudWatchRequests.listMetrics(body)
        let all = try await store.listSeries(namespace: r.namespace, name: r.name, dimensions: r.dimensions,
                                             activeSince: r.recentlyActive ? wallClock.nowMillis() - 3 * 3_600_000 : nil)
        let pageSize = 500
        let page = all.dropFirst(r.offset).prefix(pageSize)
        var members: [(String, WireValue)] = [("Metrics", .array(page.map { series in
            .map([
                ("Namespace", .string(series.namespace)),
                ("MetricName", .string(series.name)),
                ("Dimensions", .array(series.dimensions.sorted { $0.key < $1.key }.map {
                    .map([("Name", .string($0.key)), ("Value", .string($0.value))])
                })),
            ])
        }))]
        if r.offset + pageSize < all.count { members.append(("NextToken", .string("m/\(r.offset + pageSize)"))) }
        return .map(members)
    }
}
