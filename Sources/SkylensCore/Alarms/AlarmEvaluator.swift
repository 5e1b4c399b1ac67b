/// One period of an alarm's evaluation range: the statistic's value (nil when the period has no data), the
/// samples behind it, and for band alarms the band at that period.
package struct AlarmPoint: Sendable, Equatable {
    /// Period start, epoch ms.
    package var start: Int64
    package var value: Double?
    package var sampleCount: Double
    package var band: AlarmBand?

    package init(start: Int64, value: Double?, sampleCount: Double = 1, band: AlarmBand? = nil) {
        self.start = start
        self.value = value
        self.sampleCount = sampleCount
        self.band = band
    }
}

/// The result of one evaluation. `reasonData` is nil when the alarm keeps its state and its previous reason
/// (`ignore` with nothing to evaluate).
package struct AlarmEvaluation: Sendable, Equatable {
    package var state: AlarmState
    package var reason: String?
    package var reasonData: AlarmReasonData?
}

/// CloudWatch's metric-alarm evaluation, pure: the alarm, its current state, the evaluation range and the time in;
/// the new state, StateReason and StateReasonData out. No clock, no I/O: the scheduler, the API's SetAlarmState
/// and `skylens rules test` all run this same function.
///
/// With R the real (non-null) points of the range, N = EvaluationPeriods, M = DatapointsToAlarm:
/// 1. |R| = 0: `missing` → INSUFFICIENT_DATA; `ignore` → keep the state; `breaching` → ALARM; `notBreaching` → OK.
/// 2. |R| ≥ N: the N most recent real points (gaps skipped) decide: ALARM when at least M breach, else OK.
/// 3. 0 < |R| < N: `breaching` → ALARM when breaches + (N − |R|) ≥ M; `notBreaching` → ALARM when breaches ≥ M;
///    `missing`/`ignore` → ALARM when breaches ≥ M, or (the premature-alarm rule) when every real point breaches
///    and the oldest is at least M periods old (`ignore` then keeps the state instead); otherwise OK.
///
/// Alarms on `AWS/DynamoDB` metrics always treat missing data as `ignore`, as CloudWatch documents. Percentile
/// periods with fewer samples than 10/(1−p) (p ≥ 0.5) or 10/p (p < 0.5) are left out when
/// EvaluateLowSampleCountPercentile is `ignore`; if that leaves nothing, the state is kept.
package enum AlarmEvaluator {
    package static func evaluate(_ alarm: MetricAlarm, current: AlarmState, range: [AlarmPoint], now: Int64) -> AlarmEvaluation {
        let n = alarm.evaluationPeriods
        let m = alarm.datapointsToAlarm
        var lowSampleSkipped = false
        var real: [(age: Int, point: AlarmPoint, value: Double)] = []
        for (i, p) in range.enumerated() {
            guard let v = p.value else { continue }
            if alarm.evaluateLowSampleCountPercentile == .ignore, isLowSample(alarm.statistic, p.sampleCount) {
                lowSampleSkipped = true
                continue
            }
            real.append((range.count - i, p, v))
        }
        let treat: TreatMissingData = alarm.series.namespace == "AWS/DynamoDB" ? .ignore : alarm.treatMissingData
        let keep = AlarmEvaluation(state: current, reason: nil, reasonData: nil)
        func breaches(_ r: (age: Int, point: AlarmPoint, value: Double)) -> Bool {
            alarm.comparison.breaches(r.value, threshold: alarm.threshold, band: r.point.band)
        }
        let data = reasonData(alarm, range: range, considered: real.suffix(n).map { ($0.point, $0.value) }, now: now)

        if real.isEmpty {
            if lowSampleSkipped { return keep }
            switch treat {
            case .ignore:
                return keep
            case .missing:
                return AlarmEvaluation(state: .insufficientData,
                                       reason: "Insufficient Data: \(n) datapoint\(n == 1 ? " was" : "s were") unknown.",
                                       reasonData: data)
            case .breaching, .notBreaching:
                let label = treat == .breaching ? "Breaching" : "NonBreaching"
                return AlarmEvaluation(state: treat == .breaching ? .alarm : .ok,
                                       reason: "Threshold Crossed: no datapoints were received for \(n) period\(n == 1 ? "" : "s") and "
                                           + "\(n) missing datapoint\(n == 1 ? " was" : "s were") treated as [\(label)].",
                                       reasonData: data)
            }
        }

        let considered = Array(real.suffix(n))
        let breaching = considered.filter(breaches)
        let alarmed: Bool
        if real.count >= n {
            alarmed = breaching.count >= m
        } else {
            switch treat {
            case .breaching:
                alarmed = breaching.count + (n - real.count) >= m
            case .notBreaching:
                alarmed = breaching.count >= m
            case .missing, .ignore:
                let premature = breaching.count == real.count && (real.first?.age ?? 0) >= m
                if breaching.count < m, premature, treat == .ignore { return keep }
                alarmed = breaching.count >= m || premature
            }
        }
        let listed = (alarmed ? breaching : considered.filter { !breaches($0) }).reversed().map { ($0.point, $0.value) }
        return AlarmEvaluation(state: alarmed ? .alarm : .ok,
                               reason: thresholdReason(alarm, alarmed: alarmed, listed: Array(listed)),
                               reasonData: data)
    }

    /// Whether a percentile period has too few samples to be significant.
    package static func isLowSample(_ statistic: Statistic, _ samples: Double) -> Bool {
        guard case .percentile(let p) = statistic, p > 0, p < 100 else { return false }
        let fraction = p / 100
        let needed = fraction >= 0.5 ? 10 / (1 - fraction) : 10 / fraction
        return samples < needed.rounded()
    }

    /// The evaluation range ending at the last complete period before `now`, one point per period (nil where
    /// `aggregates` has none). Alarms spanning more than a day look at data up to the current hour (CloudWatch
    /// evaluates them hourly), so their last period may be incomplete.
    package static func range(_ alarm: MetricAlarm, aggregates: [(start: Int64, aggregate: MetricAggregate)], bands: [Int64: AlarmBand] = [:],
                              now: Int64) -> [AlarmPoint] {
        let periodMs = Int64(alarm.period) * 1000
        let (first, count) = window(alarm, now: now)
        let byStart = Dictionary(aggregates.map { ($0.start, $0.aggregate) }, uniquingKeysWith: { a, _ in a })
        return (0..<count).map { k in
            let start = first + Int64(k) * periodMs
            let aggregate = byStart[start]
            return AlarmPoint(start: start, value: aggregate?.value(alarm.statistic), sampleCount: aggregate?.stats.sampleCount ?? 0,
                              band: bands[start])
        }
    }

    /// The first period start and the number of periods of the evaluation range at `now`; data is read up to
    /// ``dataEnd(_:now:)``.
    package static func window(_ alarm: MetricAlarm, now: Int64) -> (first: Int64, count: Int) {
        let periodMs = Int64(alarm.period) * 1000
        let end = dataEnd(alarm, now: now)
        // The period holding the last millisecond of data is the most recent one.
        let last = MetricPeriod.start(of: end - 1, period: alarm.period)
        let count = alarm.evaluationRange
        return (last - Int64(count - 1) * periodMs, count)
    }

    /// Data considered at `now`: complete periods only, except for alarms spanning more than a day, which see data
    /// up to the start of the current hour.
    package static func dataEnd(_ alarm: MetricAlarm, now: Int64) -> Int64 {
        if alarm.period * alarm.evaluationPeriods > 86_400 { return MetricPeriod.start(of: now, period: 3_600) }
        return MetricPeriod.start(of: now, period: alarm.period)
    }

    // MARK: reasons

    static func thresholdReason(_ alarm: MetricAlarm, alarmed: Bool, listed: [(AlarmPoint, Double)]) -> String {
        let n = alarm.evaluationPeriods
        let minimum = alarmed ? alarm.datapointsToAlarm : n - alarm.datapointsToAlarm + 1
        let points = listed.map { "\(AlarmFormat.javaDouble($0.1)) (\(AlarmFormat.reasonDate($0.0.start)))" }.joined(separator: ", ")
        let verb = listed.count == 1 ? "was" : "were"
        let relation: String
        if alarm.comparison.usesBand {
            relation = bandRelation(alarm.comparison, alarmed: alarmed, bands: listed.compactMap { $0.0.band })
        } else {
            relation = (alarmed ? "" : "not ") + comparisonPhrase(alarm.comparison) + " the threshold (\(AlarmFormat.javaDouble(alarm.threshold ?? 0)))"
        }
        return "Threshold Crossed: \(listed.count) out of the last \(n) datapoints [\(points)] \(verb) \(relation) "
            + "(minimum \(minimum) datapoint\(minimum == 1 ? "" : "s") for \(alarmed ? "OK -> ALARM" : "ALARM -> OK") transition)."
    }

    static func comparisonPhrase(_ op: ComparisonOperator) -> String {
        switch op {
        case .greaterThanThreshold: "greater than"
        case .greaterThanOrEqualToThreshold: "greater than or equal to"
        case .lessThanThreshold: "less than"
        case .lessThanOrEqualToThreshold: "less than or equal to"
        case .lessThanLowerOrGreaterThanUpperThreshold, .lessThanLowerThreshold, .greaterThanUpperThreshold: "outside"
        }
    }

    static func bandRelation(_ op: ComparisonOperator, alarmed: Bool, bands: [AlarmBand]) -> String {
        let lower = bands.map { AlarmFormat.javaDouble($0.lower) }.joined(separator: ", ")
        let upper = bands.map { AlarmFormat.javaDouble($0.upper) }.joined(separator: ", ")
        let not = alarmed ? "" : "not "
        switch op {
        case .lessThanLowerThreshold: return "\(not)less than the lower thresholds [\(lower)]"
        case .greaterThanUpperThreshold: return "\(not)greater than the upper thresholds [\(upper)]"
        default: return alarmed ? "greater than the upper thresholds [\(upper)] or less than the lower thresholds [\(lower)]"
            : "not greater than the upper thresholds [\(upper)] nor less than the lower thresholds [\(lower)]"
        }
    }

    static func reasonData(_ alarm: MetricAlarm, range: [AlarmPoint], considered: [(AlarmPoint, Double)], now: Int64) -> AlarmReasonData {
        // recentDatapoints run from the oldest to the newest real point of the range, gaps as null.
        let firstReal = range.firstIndex { $0.value != nil }
        let lastReal = range.lastIndex { $0.value != nil }
        var recent: [Double?] = []
        var startDate: Int64?
        if let firstReal, let lastReal {
            recent = range[firstReal...lastReal].map(\.value)
            startDate = range[firstReal].start
        }
        return AlarmReasonData(queryDate: now, startDate: startDate, statistic: alarm.statistic, unit: alarm.unit, period: alarm.period,
                               recentDatapoints: recent, threshold: alarm.threshold,
                               evaluatedDatapoints: considered.reversed().map { ($0.0.start, $0.1, $0.0.sampleCount) })
    }
}

/// StateReasonData, as CloudWatch writes it (a JSON string; see `AlarmFormat.reasonDataJSON`).
package struct AlarmReasonData: Sendable, Equatable {
    package var version = "1.0"
    package var queryDate: Int64
    package var startDate: Int64?
    package var statistic: Statistic
    package var unit: MetricUnit?
    package var period: Int
    package var recentDatapoints: [Double?]
    package var threshold: Double?
    /// The points the decision used, most recent first: timestamp, value, sample count.
    package var evaluatedDatapoints: [(timestamp: Int64, value: Double, sampleCount: Double)]

    package static func == (a: AlarmReasonData, b: AlarmReasonData) -> Bool {
        a.queryDate == b.queryDate && a.startDate == b.startDate && a.statistic == b.statistic && a.unit == b.unit
            && a.period == b.period && a.recentDatapoints == b.recentDatapoints && a.threshold == b.threshold
            && a.evaluatedDatapoints.elementsEqual(b.evaluatedDatapoints) { $0 == $1 }
    }
}
