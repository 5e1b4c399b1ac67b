import SkylensCore
import SkylensWire

/// `GetMetricData`: metric queries read from the store, then expressions evaluated in dependency order.
extension CloudWatchAPI {
    func getMetricData(_ body: WireValue) async throws -> WireValue {
        let r = try CloudWatchRequests.getMetricData(body)
        var series: [String: MetricMath.Series] = [:]
        var metricSeries: [MetricMath.Series] = []
        var periods: [Int] = []
        for q in r.queries {
            guard case .metric(let s, let period, let statistic, let unit) = q.source else { continue }
            periods.append(period)
            let data = try await store.aggregates(MetricQuery(series: s, start: r.start, end: r.end, periodSeconds: period))
            let points = (unit.map { $0 == data.unit } ?? true ? data.points : [])
                .compactMap { p in p.aggregate.value(statistic).map { (p.start, $0) } }
            let result = MetricMath.Series(label: q.label ?? s.name, points: points)
            series[q.id] = result
            metricSeries.append(result)
        }
        // Expressions, each after the queries it names.
        let expressions = Dictionary(uniqueKeysWithValues: r.queries.compactMap { q -> (String, (CloudWatchRequests.DataQuery, MetricMath.Expression, Int?))? in
            guard case .expression(let e, _, let p) = q.source else { return nil }
            return (q.id, (q, e, p))
        })
        var values: [String: MetricMath.Value] = series.mapValues { .series($0) }
        var visiting: Set<String> = []
        func evaluate(_ id: String) throws(CloudWatchError) -> MetricMath.Value {
            if let v = values[id] { return v }
            guard let (query, expression, period) = expressions[id] else {
                throw CloudWatchError(.invalidParameterValue, "The expression refers to \(id), which is not the Id of a query.")
            }
            guard visiting.insert(id).inserted else {
                throw CloudWatchError(.invalidParameterValue, "The expressions of \(id) form a cycle.")
            }
            for dependency in expression.references where values[dependency] == nil { _ = try evaluate(dependency) }
            let snapshot = values
            let step = Int64(period ?? periods.min() ?? 60) * 1000
            let first = MetricPeriod.start(of: r.start, period: Int(step / 1000))
            let grid = Array(stride(from: first, to: r.end, by: Int(step)))
            let context = MetricMath.Context(resolve: { (ref: String) throws(MetricMath.Error) -> MetricMath.Value in
                guard let v = snapshot[ref] else { throw MetricMath.Error(message: "unknown id \(ref)") }
                return v
            }, allMetrics: metricSeries, grid: grid)
            do {
                var v = try MetricMath.evaluate(expression, context)
                if let label = query.label {
                    if case .series(var s) = v { s.label = label; v = .series(s) }
                } else if case .series(var s) = v {
                    s.label = id
                    v = .series(s)
                }
                // A number is reported at every period of the request.
                if case .scalar(let x) = v { v = .series(MetricMath.Series(label: query.label ?? id, points: grid.map { ($0, x) })) }
                values[id] = v
                return v
            } catch {
                throw CloudWatchError(.invalidParameterValue, "The expression of \(id) could not be evaluated: \(error.message)")
            }
        }
        var results: [WireValue] = []
        var budget = r.maxDatapoints
        for q in r.queries where q.returnData {
            let value = try evaluate(q.id)
            let list: [MetricMath.Series] = switch value {
            case .series(let s): [s]
            case .array(let a): a
            case .scalar: []
            }
            for s in list {
                var points = s.points.filter { $0.1.isFinite }.sorted { r.ascending ? $0.0 < $1.0 : $0.0 > $1.0 }
                let complete = points.count <= budget
                points = Array(points.prefix(max(0, budget)))
                budget -= points.count
                results.append(.map([
                    ("Id", .string(q.id)),
                    ("Label", .string(s.label)),
                    ("Timestamps", .array(points.map { .timestamp(Double($0.0) / 1000) })),
                    ("Values", .array(points.map { .double($0.1) })),
                    ("StatusCode", .string(complete ? "Complete" : "PartialData")),
                    ("Messages", .array([])),
                ]))
            }
        }
        return .map([("MetricDataResults", .array(results)), ("Messages", .array([]))])
    }
}
