import SkylensCore

/// The alarm operations' requests: PutMetricAlarm with CloudWatch's validation rules, and the describe filters.
extension CloudWatchRequests {
    /// `PutMetricAlarm` → the alarm it configures.
    package static func putMetricAlarm(_ body: WireValue) throws(CloudWatchError) -> MetricAlarm {
        guard let name = body["AlarmName"]?.string else { throw .missing("AlarmName") }
        try validateName(name, "AlarmName")
        let metrics = try alarmMetrics(body)
        let namespace: String, metricName: String, dimensions: [String: String], statistic: Statistic, period: Int
        if let metrics {
            for single in ["Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit"] where body[single] != nil {
                throw CloudWatchError(.invalidParameterCombination, "\(single) cannot be used with Metrics: each query of Metrics names its metric.")
            }
            // The metric the alarm is listed under, and the period it evaluates at (that of the query it returns).
            guard let firstMetric = metrics.compactMap({ m -> (MetricSeries, Int, Statistic)? in
                if case .metric(let s, let p, let st, _) = m.source { (s, p, st) } else { nil }
            }).first else {
                throw CloudWatchError(.invalidParameterValue, "Metrics must include at least one MetricStat query.")
            }
            (namespace, metricName, dimensions, statistic) = (firstMetric.0.namespace, firstMetric.0.name, firstMetric.0.dimensions, firstMetric.2)
            let returned = metrics.first { $0.returnData && $0.id != body["ThresholdMetricId"]?.string }
            switch returned?.source {
            case .metric(_, let p, _, _)?: period = p
            default: period = returned?.period ?? firstMetric.1
            }
            guard [10, 20, 30].contains(period) || (period >= 60 && period % 60 == 0) else {
                throw CloudWatchError(.invalidParameterValue, "The period of an alarm's metrics must be 10, 20, 30 or a multiple of 60.")
            }
        } else {
            guard let ns = body["Namespace"]?.string else { throw .missing("Namespace") }
            try validateName(ns, "Namespace")
            guard let name = body["MetricName"]?.string else { throw .missing("MetricName") }
            try validateName(name, "MetricName")
            namespace = ns
            metricName = name
            dimensions = try self.dimensions(body["Dimensions"], at: "Dimensions", requireValues: true)
            statistic = try alarmStatistic(body)
            guard let periodValue = body["Period"]?.number else { throw .missing("Period") }
            period = Int(periodValue)
            guard Double(period) == periodValue, [10, 20, 30].contains(period) || (period >= 60 && period % 60 == 0) else {
                throw CloudWatchError(.invalidParameterValue, "The parameter Period must be 10, 20, 30 or a multiple of 60.")
            }
        }
        guard let evaluationValue = body["EvaluationPeriods"]?.number else { throw .missing("EvaluationPeriods") }
        let evaluationPeriods = Int(evaluationValue)
        guard Double(evaluationPeriods) == evaluationValue, evaluationPeriods >= 1 else {
            throw .invalid("EvaluationPeriods", "\(evaluationValue)", "It must be at least 1.")
        }
        guard period * evaluationPeriods <= 7 * 86_400 else {
            throw CloudWatchError(.invalidParameterValue, "The product of Period and EvaluationPeriods must not exceed 7 days (604,800 seconds).")
        }
        guard period >= 3_600 || period * evaluationPeriods <= 86_400 else {
            throw CloudWatchError(.invalidParameterValue,
                                  "For periods under one hour, the product of Period and EvaluationPeriods must not exceed one day (86,400 seconds).")
        }
        var datapointsToAlarm = evaluationPeriods
        if let m = body["DatapointsToAlarm"]?.number {
            guard m == m.rounded(), m >= 1, Int(m) <= evaluationPeriods else {
                throw .invalid("DatapointsToAlarm", "\(m)", "It must be between 1 and EvaluationPeriods.")
            }
            datapointsToAlarm = Int(m)
        }

        guard let operatorText = body["ComparisonOperator"]?.string else { throw .missing("ComparisonOperator") }
        guard let comparison = ComparisonOperator(rawValue: operatorText) else { throw .invalid("ComparisonOperator", operatorText) }
        let threshold = body["Threshold"]?.number
        let thresholdMetricId = body["ThresholdMetricId"]?.string
        if comparison.usesBand {
            guard thresholdMetricId != nil, metrics != nil else {
                throw CloudWatchError(.validationError,
                                      "\(operatorText) compares with an anomaly detection band: Metrics and ThresholdMetricId are required.")
            }
            guard threshold == nil else {
                throw CloudWatchError(.invalidParameterCombination, "Threshold cannot be used with ThresholdMetricId.")
            }
        } else {
            guard let threshold else { throw .missing("Threshold") }
            guard threshold.isFinite else { throw .invalid("Threshold", "\(threshold)") }
            if thresholdMetricId != nil {
                throw CloudWatchError(.invalidParameterCombination, "ThresholdMetricId is used only with the band comparison operators.")
            }
        }

        var treat = TreatMissingData.missing
        if let text = body["TreatMissingData"]?.string {
            guard let t = TreatMissingData(rawValue: text) else {
                throw .invalid("TreatMissingData", text, "It must be breaching, notBreaching, ignore or missing.")
            }
            treat = t
        }
        var alarm = MetricAlarm(name: name, series: MetricSeries(namespace: namespace, name: metricName, dimensions: dimensions),
                                statistic: statistic, period: period, evaluationPeriods: evaluationPeriods,
                                datapointsToAlarm: datapointsToAlarm, threshold: threshold, comparison: comparison, treatMissingData: treat)
        alarm.metrics = metrics ?? []
        alarm.thresholdMetricId = thresholdMetricId
        if let text = body["EvaluateLowSampleCountPercentile"]?.string {
            guard let v = LowSampleCountPercentile(rawValue: text) else {
                throw .invalid("EvaluateLowSampleCountPercentile", text, "It must be evaluate or ignore.")
            }
            guard alarm.isExtendedStatistic else {
                throw CloudWatchError(.invalidParameterCombination, "EvaluateLowSampleCountPercentile applies only to ExtendedStatistic alarms.")
            }
            alarm.evaluateLowSampleCountPercentile = v
        }
        if let text = body["Unit"]?.string {
            guard let unit = MetricUnit(rawValue: text) else { throw .invalid("Unit", text) }
            alarm.unit = unit
        }
        if let text = body["AlarmDescription"]?.string {
            guard text.unicodeScalars.count <= 1024 else { throw .invalid("AlarmDescription", "(\(text.count) characters)", "At most 1024 characters.") }
            alarm.description = text
        }
        alarm.actionsEnabled = body["ActionsEnabled"]?.bool ?? true
        alarm.alarmActions = try actions(body["AlarmActions"], "AlarmActions")
        alarm.okActions = try actions(body["OKActions"], "OKActions")
        alarm.insufficientDataActions = try actions(body["InsufficientDataActions"], "InsufficientDataActions")
        return alarm
    }

    /// `Statistic` or `ExtendedStatistic`, exactly one.
    private static func alarmStatistic(_ body: WireValue) throws(CloudWatchError) -> Statistic {
        switch (body["Statistic"]?.string, body["ExtendedStatistic"]?.string) {
        case let (text?, nil):
            guard let s = Statistic(text), !{ if case .percentile = s { true } else { false } }() else {
                throw .invalid("Statistic", text, "Statistics are SampleCount, Average, Sum, Minimum and Maximum.")
            }
            return s
        case let (nil, text?):
            guard let s = Statistic(text), case .percentile = s else {
                throw .invalid("ExtendedStatistic", text, "Extended statistics are percentiles such as p99 or p99.9.")
            }
            return s
        case (nil, nil):
            throw CloudWatchError(.missingParameter, "Must specify either Statistic or ExtendedStatistic.")
        default:
            throw CloudWatchError(.invalidParameterCombination, "Must specify either Statistic or ExtendedStatistic, but not both.")
        }
    }

    /// `Metrics` of a metric-math or anomaly-detection alarm (nil when absent): at most 10 queries, ids unique,
    /// every expression's references known, one query returned (besides the band).
    private static func alarmMetrics(_ body: WireValue) throws(CloudWatchError) -> [AlarmMetric]? {
        guard let list = body["Metrics"]?.array, !list.isEmpty else { return nil }
        guard list.count <= 10 else { throw CloudWatchError(.invalidParameterValue, "The collection Metrics must not have a size greater than 10.") }
        var out: [AlarmMetric] = []
        var ids: Set<String> = []
        for (k, q) in list.enumerated() {
            let query = try dataQuery(q, at: "Metrics.member.\(k + 1)")
            guard ids.insert(query.id).inserted else {
                throw CloudWatchError(.invalidParameterValue, "The value \(query.id) for parameter Metrics.member.\(k + 1).Id is used more than once.")
            }
            switch query.source {
            case .metric(let series, let period, let statistic, let unit):
                out.append(AlarmMetric(id: query.id, label: query.label, returnData: query.returnData,
                                       source: .metric(series, period: period, statistic: statistic, unit: unit)))
            case .expression(let expression, let text, let period):
                for ref in expression.references where !list.contains(where: { $0["Id"]?.string == ref }) {
                    throw CloudWatchError(.invalidParameterValue, "The expression of \(query.id) refers to \(ref), which is not the Id of a query.")
                }
                out.append(AlarmMetric(id: query.id, label: query.label, returnData: query.returnData, source: .expression(text), period: period))
            }
        }
        let thresholdId = body["ThresholdMetricId"]?.string
        guard out.filter({ $0.returnData && $0.id != thresholdId }).count == 1 else {
            throw CloudWatchError(.invalidParameterValue, "Exactly one query of Metrics (other than ThresholdMetricId) must have ReturnData true.")
        }
        if let thresholdId {
            guard let band = out.first(where: { $0.id == thresholdId }), case .expression(let text) = band.source,
                  let expression = try? MetricMath.parse(text), let args = AnomalyDetectionBand.arguments(expression),
                  out.contains(where: { if case .metric = $0.source { $0.id == args.id } else { false } })
            else {
                throw CloudWatchError(.invalidParameterValue,
                                      "ThresholdMetricId must name an ANOMALY_DETECTION_BAND(id, k) expression of Metrics over one of its MetricStat queries.")
            }
        }
        return out
    }

    private static func actions(_ value: WireValue?, _ field: String) throws(CloudWatchError) -> [String] {
        guard let list = value?.array else { return [] }
        guard list.count <= 5 else { throw CloudWatchError(.invalidParameterValue, "The collection \(field) must not have a size greater than 5.") }
        var out: [String] = []
        for (k, v) in list.enumerated() {
            guard let arn = v.string, arn.hasPrefix("arn:"), arn.split(separator: ":", omittingEmptySubsequences: false).count >= 6 else {
                throw .invalid("\(field).member.\(k + 1)", v.string ?? "\(v)", "Actions are ARNs (an SNS topic, for example).")
            }
            out.append(arn)
        }
        return out
    }

    /// Alarm names: `AlarmNames` (a list, at most 100).
    package static func alarmNames(_ body: WireValue, required: Bool) throws(CloudWatchError) -> [String]? {
        guard let list = body["AlarmNames"]?.array else {
            if required { throw .missing("AlarmNames") }
            return nil
        }
        guard list.count <= 100 else { throw CloudWatchError(.invalidParameterValue, "The collection AlarmNames must not have a size greater than 100.") }
        var names: [String] = []
        for (k, v) in list.enumerated() {
            guard let name = v.string else { throw .invalid("AlarmNames.member.\(k + 1)", "\(v)") }
            names.append(name)
        }
        return names
    }

    /// A `StateValue` filter or argument.
    package static func stateValue(_ body: WireValue, required: Bool) throws(CloudWatchError) -> AlarmState? {
        guard let text = body["StateValue"]?.string else {
            if required { throw .missing("StateValue") }
            return nil
        }
        guard let state = AlarmState(rawValue: text) else { throw .invalid("StateValue", text, "It must be OK, ALARM or INSUFFICIENT_DATA.") }
        return state
    }

    /// `NextToken` of the alarm listings: `a/<offset>`.
    package static func offsetToken(_ body: WireValue) throws(CloudWatchError) -> Int {
        guard let token = body["NextToken"]?.string else { return 0 }
        guard token.hasPrefix("a/"), let n = Int(token.dropFirst(2)), n >= 0 else {
            throw CloudWatchError(.invalidNextToken, "The service couldn't process your request because the NextToken is invalid.")
        }
        return n
    }

    /// `MaxRecords`: 1 to 100, 50 by default.
    package static func maxRecords(_ body: WireValue) throws(CloudWatchError) -> Int {
        guard let n = body["MaxRecords"]?.number else { return 50 }
        guard n == n.rounded(), (1...100).contains(n) else { throw .invalid("MaxRecords", "\(n)", "It must be between 1 and 100.") }
        return Int(n)
    }
}
