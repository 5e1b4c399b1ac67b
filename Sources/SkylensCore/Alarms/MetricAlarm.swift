/// A CloudWatch metric alarm as PutMetricAlarm configures it: what the evaluator, the scheduler and the alarm
/// API share.
package struct MetricAlarm: Sendable, Equatable {
    package var name: String
    package var description: String?
    package var series: MetricSeries
    /// `Statistic`, or a percentile for `ExtendedStatistic`.
    package var statistic: Statistic
    package var unit: MetricUnit?
    package var period: Int
    package var evaluationPeriods: Int
    /// M of "M out of N"; EvaluationPeriods when not given.
    package var datapointsToAlarm: Int
    /// The static threshold; nil for band alarms, whose thresholds come from `thresholdMetricId`.
    package var threshold: Double?
    /// The id of the `ANOMALY_DETECTION_BAND` expression of a band alarm.
    package var thresholdMetricId: String?
    package var comparison: ComparisonOperator
    package var treatMissingData: TreatMissingData
    /// nil when not set (percentiles are then always evaluated).
    package var evaluateLowSampleCountPercentile: LowSampleCountPercentile?
    package var actionsEnabled: Bool
    package var alarmActions: [String]
    package var okActions: [String]
    package var insufficientDataActions: [String]
    /// The queries of a metric-math or anomaly-detection alarm (PutMetricAlarm's `Metrics`); empty for an alarm on
    /// one metric. For such an alarm `series` and `statistic` are those of its first metric query (what
    /// DescribeAlarmsForMetric matches), and `period` that of the query it evaluates.
    package var metrics: [AlarmMetric] = []

    package init(name: String, series: MetricSeries, statistic: Statistic, period: Int, evaluationPeriods: Int,
                 datapointsToAlarm: Int? = nil, threshold: Double?, comparison: ComparisonOperator,
                 treatMissingData: TreatMissingData = .missing) {
        self.name = name
        self.series = series
        self.statistic = statistic
        self.period = period
        self.evaluationPeriods = evaluationPeriods
        self.datapointsToAlarm = datapointsToAlarm ?? evaluationPeriods
        self.threshold = threshold
        self.comparison = comparison
        self.treatMissingData = treatMissingData
        actionsEnabled = true
        alarmActions = []
        okActions = []
        insufficientDataActions = []
    }

    package var isExtendedStatistic: Bool { if case .percentile = statistic { true } else { false } }

    /// Whether the alarm evaluates metric math (`Metrics`) rather than one metric.
    package var isMathAlarm: Bool { !metrics.isEmpty }

    /// The series whose datapoints the alarm reads.
    package var watchedSeries: [MetricSeries] {
        guard isMathAlarm else { return [series] }
        return metrics.compactMap { if case .metric(let s, _, _, _) = $0.source { s } else { nil } }
    }

    /// The periods read at each evaluation: EvaluationPeriods plus two, as in CloudWatch's documented examples
    /// (an evaluation range of 5 for 3 evaluation periods), so that recent gaps do not hide older real points.
    package var evaluationRange: Int { evaluationPeriods + 2 }

    /// The actions a change from `old` to `new` runs: none without a change or with actions disabled.
    package func actionsToRun(from old: AlarmState, to new: AlarmState) -> [String] {
        guard old != new, actionsEnabled else { return [] }
        return actions(for: new)
    }

    /// The actions for entering `state`.
    package func actions(for state: AlarmState) -> [String] {
        switch state {
        case .ok: okActions
        case .alarm: alarmActions
        case .insufficientData: insufficientDataActions
        }
    }
}

package enum AlarmState: String, Sendable, CaseIterable {
    case ok = "OK"
    case alarm = "ALARM"
    case insufficientData = "INSUFFICIENT_DATA"
}

package enum ComparisonOperator: String, Sendable, CaseIterable {
    case greaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
    case greaterThanThreshold = "GreaterThanThreshold"
    case lessThanThreshold = "LessThanThreshold"
    case lessThanOrEqualToThreshold = "LessThanOrEqualToThreshold"
    case lessThanLowerOrGreaterThanUpperThreshold = "LessThanLowerOrGreaterThanUpperThreshold"
    case lessThanLowerThreshold = "LessThanLowerThreshold"
    case greaterThanUpperThreshold = "GreaterThanUpperThreshold"

    /// The operators that compare with an anomaly-detection band instead of a static threshold.
    package var usesBand: Bool {
        switch self {
        case .lessThanLowerOrGreaterThanUpperThreshold, .lessThanLowerThreshold, .greaterThanUpperThreshold: true
        default: false
        }
    }

    /// Whether `value` breaches: the value is the first operand; band edges are not breaching.
    package func breaches(_ value: Double, threshold: Double?, band: AlarmBand?) -> Bool {
        switch self {
        case .greaterThanOrEqualToThreshold: threshold.map { value >= $0 } ?? false
        case .greaterThanThreshold: threshold.map { value > $0 } ?? false
        case .lessThanThreshold: threshold.map { value < $0 } ?? false
        case .lessThanOrEqualToThreshold: threshold.map { value <= $0 } ?? false
        case .lessThanLowerOrGreaterThanUpperThreshold: band.map { value < $0.lower || value > $0.upper } ?? false
        case .lessThanLowerThreshold: band.map { value < $0.lower } ?? false
        case .greaterThanUpperThreshold: band.map { value > $0.upper } ?? false
        }
    }
}

package enum TreatMissingData: String, Sendable, CaseIterable {
    case missing, notBreaching, breaching, ignore
}

package enum LowSampleCountPercentile: String, Sendable, CaseIterable {
    case evaluate, ignore
}

/// The band of an anomaly-detection alarm at one period.
package struct AlarmBand: Sendable, Equatable {
    package var lower: Double
    package var upper: Double

    package init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

/// One query of a metric-math alarm: a metric with its period and statistic, or an expression over other queries'
/// ids (`ANOMALY_DETECTION_BAND(m1, 2)` for the band of an anomaly-detection alarm).
package struct AlarmMetric: Sendable, Equatable {
    package enum Source: Sendable, Equatable {
        case metric(MetricSeries, period: Int, statistic: Statistic, unit: MetricUnit?)
        case expression(String)
    }

    package var id: String
    package var label: String?
    package var returnData: Bool
    package var source: Source
    /// An expression's period (metric queries carry their own).
    package var period: Int?

    package init(id: String, label: String? = nil, returnData: Bool, source: Source, period: Int? = nil) {
        self.id = id
        self.label = label
        self.returnData = returnData
        self.source = source
        self.period = period
    }
}
