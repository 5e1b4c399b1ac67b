import SkylensCore
import SkylensWire

/// `GetMetricData`: metric queries read from the store, expressions evaluated in dependency order, and the results
/// paged by `MaxDatapoints` with a `NextToken` (`d/<query index>/<datapoints of that query already returned>`).
///
/// Only what a page needs is read: metric queries that expressions use (all of them when one calls `METRICS()`),
/// then returned queries in order until the page is full. Sketches are read only for percentile statistics.
extension CloudWatchAPI {
    func getMetricData(_ body: WireValue) async throws -> WireValue {
        let r = try CloudWatchRequests.getMetricData(body)
        let expressions = Dictionary(uniqueKeysWithValues: r.queries.compactMap { q -> (String, (CloudWatchRequests.DataQuery, MetricMath.Expression, Int?))? in
            guard case .expression(let e, _, let p) = q.source else { return nil }
            return (q.id, (q, e, p))
        })
        let readsAll = expressions.values.contains { $0.1.callsMetrics }
        let referenced = expressions.values.reduce(into: Set<String>()) { $0.formUnion($1.1.references) }
        let periods = r.queries.compactMap { q -> Int? in if case .metric(_, let p, _, _) = q.source { p } else { nil } }

        var values: [String: MetricMath.Value] = [:]
        /// Reads metric queries (in one batch) into `values`.
        func prefetch(_ queries: [CloudWatchRequests.DataQuery]) async throws {
            let reads = queries.compactMap { q -> (CloudWatchRequests.DataQuery, MetricQuery)? in
                guard case .metric(let s, let period, let statistic, _) = q.source, values[q.id] == nil else { return nil }
                let needsPercentiles = if case .percentile = statistic { true } else { false }
                return (q, MetricQuery(series: s, start: r.start, end: r.end, periodSeconds: period, needsPercentiles: needsPercentiles))
            }
            guard !reads.isEmpty else { return }
            for ((q, query), data) in zip(reads, try await store.aggregates(reads.map(\.1))) {
                guard case .metric(_, _, let statistic, let unit) = q.source else { continue }
                let points = (unit.map { $0 == data.unit } ?? true ? data.points : [])
                    .compactMap { p in p.aggregate.value(statistic).map { (p.start, $0) } }
                values[q.id] = .series(MetricMath.Series(label: q.label ?? query.series.name, points: points))
            }
        }
        func read(_ q: CloudWatchRequests.DataQuery) async throws -> MetricMath.Series {
            if values[q.id] == nil { try await prefetch([q]) }
            guard case .series(let cached)? = values[q.id] else { preconditionFailure("not a metric query") }
            return cached
        }
        let needed = r.queries.filter { q in if case .metric = q.source { readsAll || referenced.contains(q.id) } else { false } }
        try await prefetch(needed)
        var allMetrics: [MetricMath.Series] = []
        for q in needed { allMetrics.append(try await read(q)) }

        // Expressions, each after the queries it names.
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
            }, allMetrics: allMetrics, grid: grid)
            do {
                var v = try MetricMath.evaluate(expression, context)
                if case .series(var s) = v {
                    s.label = query.label ?? id
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

        // Read ahead, in batches (the store reads a batch on both cores), the metric queries this page will likely
        // return: as many as the budget holds if each fills the whole time range.
        let returned = r.queries.enumerated().filter { $0.offset >= r.resume.query && $0.element.returnData }.map(\.element)
        var ahead = returned.filter { if case .metric = $0.source { values[$0.id] == nil } else { false } }[...]
        var expected = r.maxDatapoints + r.resume.point
        while expected > 0, !ahead.isEmpty {
            var batch: [CloudWatchRequests.DataQuery] = []
            while expected > 0, let q = ahead.first, case .metric(_, let period, _, _) = q.source {
                batch.append(q)
                ahead.removeFirst()
                expected -= max(1, Int((r.end - r.start) / (Int64(period) * 1000)))
            }
            try await prefetch(batch)
        }

        var results: [WireValue] = []
        var budget = r.maxDatapoints
        var nextToken: String?
        for (index, q) in r.queries.enumerated() where q.returnData && index >= r.resume.query {
            guard budget > 0 else { nextToken = "d/\(index)/0"; break }
            let list: [MetricMath.Series]
            if case .metric = q.source {
                list = [try await read(q)]
            } else {
                switch try evaluate(q.id) {
                case .series(let s): list = [s]
                case .array(let a): list = a
                case .scalar: list = []
                }
            }
            // Datapoints of this query before this page (across its series, in order).
            var skip = index == r.resume.query ? r.resume.point : 0
            var position = 0
            for s in list {
                var points = s.points.filter { $0.1.isFinite }.sorted { r.ascending ? $0.0 < $1.0 : $0.0 > $1.0 }
                let dropped = min(skip, points.count)
                points.removeFirst(dropped)
                skip -= dropped
                position += dropped
                let available = points.count
                let taken = min(available, budget)
                budget -= taken
                position += taken
                let partial = taken < available
                if partial { nextToken = "d/\(index)/\(position)" }
                points = Array(points.prefix(taken))
                results.append(.map([
                    ("Id", .string(q.id)),
                    ("Label", .string(s.label)),
                    ("Timestamps", .array(points.map { .timestamp(Double($0.0) / 1000) })),
                    ("Values", .array(points.map { .double($0.1) })),
                    ("StatusCode", .string(partial ? "PartialData" : "Complete")),
                    ("Messages", .array([])),
                ]))
                if nextToken != nil { break }
            }
            if nextToken != nil { break }
        }
        var members: [(String, WireValue)] = [("MetricDataResults", .array(results))]
        if let nextToken { members.append(("NextToken", .string(nextToken))) }
        members.append(("Messages", .array([])))
        return .map(members)
    }
}
