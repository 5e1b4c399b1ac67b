/// The band of an anomaly-detection alarm, `ANOMALY_DETECTION_BAND(m1, k)`, from a simple, documented model: for a
/// period starting at time t, the values of m1 at the same time of day on each of the previous 14 days; the band is
/// their mean ± k standard deviations (k defaults to 2). With fewer than 3 such values there is no band, and the
/// period counts as missing data. CloudWatch trains a richer model; this one is predictable and explainable.
package enum AnomalyDetectionBand {
    package static let historyDays = 14
    package static let minimumHistory = 3
    package static let defaultDeviations = 2.0

    /// The metric id and the number of standard deviations of `ANOMALY_DETECTION_BAND(id[, k])`, or nil when
    /// `expression` is not that call.
    package static func arguments(_ expression: MetricMath.Expression) -> (id: String, deviations: Double)? {
        guard case .call(let name, let args) = expression, name == "ANOMALY_DETECTION_BAND", (1...2).contains(args.count),
              case .reference(let id) = args[0] else { return nil }
        if args.count == 2 {
            guard case .number(let k) = args[1], k > 0 else { return nil }
            return (id, k)
        }
        return (id, defaultDeviations)
    }

    /// The band for the period starting at `start` from `history` (period start → value).
    package static func band(at start: Int64, history: [Int64: Double], deviations: Double) -> AlarmBand? {
        let values = (1...historyDays).compactMap { history[start - Int64($0) * 86_400_000] }
        guard values.count >= minimumHistory else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        let spread = deviations * variance.squareRoot()
        return AlarmBand(lower: mean - spread, upper: mean + spread)
    }
}

extension AlarmEvaluator {
    /// The evaluation range of a metric-math alarm: the returned query evaluated over the range's periods from the
    /// metric queries' values (`data`: id → period start → value, band history included), and for an anomaly
    /// alarm the band at each period. A period where the expression has no value (or no band) is missing data.
    package static func mathRange(_ alarm: MetricAlarm, data: [String: [Int64: Double]], now: Int64) throws(MetricMath.Error) -> [AlarmPoint] {
        let (first, count) = window(alarm, now: now)
        let periodMs = Int64(alarm.period) * 1000
        let grid = (0..<count).map { first + Int64($0) * periodMs }
        let queries = Dictionary(alarm.metrics.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var values: [String: MetricMath.Value] = [:]
        for (id, points) in data {
            values[id] = .series(MetricMath.Series(label: id, points: points.filter { grid.contains($0.key) }.sorted { $0.key < $1.key }
                .map { ($0.key, $0.value) }))
        }
        var visiting: Set<String> = []
        // Each expression after the ones it names.
        func resolve(_ id: String) throws(MetricMath.Error) -> MetricMath.Value {
            if let v = values[id] { return v }
            guard let q = queries[id], case .expression(let text) = q.source else { throw MetricMath.Error(message: "unknown id \(id)") }
            guard visiting.insert(id).inserted else { throw MetricMath.Error(message: "the expressions of \(id) form a cycle") }
            let expression = try MetricMath.parse(text)
            for dependency in expression.references where values[dependency] == nil { _ = try resolve(dependency) }
            let snapshot = values
            let context = MetricMath.Context(resolve: { (ref: String) throws(MetricMath.Error) -> MetricMath.Value in
                guard let v = snapshot[ref] else { throw MetricMath.Error(message: "unknown id \(ref)") }
                return v
            }, allMetrics: [], grid: grid)
            var v = try MetricMath.evaluate(expression, context)
            if case .scalar(let x) = v { v = .series(MetricMath.Series(label: id, points: grid.map { ($0, x) })) }
            values[id] = v
            return v
        }
        guard let returned = alarm.metrics.first(where: { $0.returnData && $0.id != alarm.thresholdMetricId }) else {
            throw MetricMath.Error(message: "no query returns data")
        }
        guard case .series(let series) = try resolve(returned.id) else {
            throw MetricMath.Error(message: "\(returned.id) must be one time series")
        }
        let byStart = Dictionary(series.points, uniquingKeysWith: { a, _ in a })
        var bandParameters: (history: [Int64: Double], deviations: Double)?
        if let id = alarm.thresholdMetricId, let q = queries[id], case .expression(let text) = q.source,
           let args = AnomalyDetectionBand.arguments(try MetricMath.parse(text)) {
            bandParameters = (data[args.id] ?? [:], args.deviations)
        }
        return grid.map { start in
            var value = byStart[start].flatMap { $0.isFinite ? $0 : nil }
            var band: AlarmBand?
            if let b = bandParameters {
                band = AnomalyDetectionBand.band(at: start, history: b.history, deviations: b.deviations)
                if band == nil { value = nil }
            }
            return AlarmPoint(start: start, value: value, sampleCount: value == nil ? 0 : 1, band: band)
        }
    }
}
