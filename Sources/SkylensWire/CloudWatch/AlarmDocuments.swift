import SkylensCore

/// Alarms as the CloudWatch API and CloudWatch's messages write them.
package enum AlarmDocuments {
    /// A `MetricAlarm` structure of DescribeAlarms / DescribeAlarmsForMetric.
    package static func metricAlarm(_ s: StoredAlarm, region: String, account: String) -> WireValue {
        let a = s.alarm
        var m: [(String, WireValue)] = [
            ("AlarmName", .string(a.name)),
            ("AlarmArn", .string(arn(a.name, region: region, account: account))),
        ]
        if let d = a.description { m.append(("AlarmDescription", .string(d))) }
        m += [
            ("AlarmConfigurationUpdatedTimestamp", .timestamp(Double(s.configurationUpdated) / 1000)),
            ("ActionsEnabled", .bool(a.actionsEnabled)),
            ("OKActions", .array(a.okActions.map(WireValue.string))),
            ("AlarmActions", .array(a.alarmActions.map(WireValue.string))),
            ("InsufficientDataActions", .array(a.insufficientDataActions.map(WireValue.string))),
            ("StateValue", .string(s.state.rawValue)),
            ("StateReason", .string(s.reason)),
        ]
        if let data = s.reasonData { m.append(("StateReasonData", .string(data))) }
        m.append(("StateUpdatedTimestamp", .timestamp(Double(s.stateUpdated) / 1000)))
        if a.isMathAlarm {
            m.append(("Metrics", metrics(a, lowerCaseDimensions: false)))
        } else {
            m += [
                ("MetricName", .string(a.series.name)),
                ("Namespace", .string(a.series.namespace)),
                (a.isExtendedStatistic ? "ExtendedStatistic" : "Statistic", .string(a.statistic.description)),
                ("Dimensions", dimensions(a.series.dimensions, lowerCase: false)),
                ("Period", .int(Int64(a.period))),
            ]
            if let unit = a.unit { m.append(("Unit", .string(unit.rawValue))) }
        }
        m += [
            ("EvaluationPeriods", .int(Int64(a.evaluationPeriods))),
            ("DatapointsToAlarm", .int(Int64(a.datapointsToAlarm))),
        ]
        if let t = a.threshold { m.append(("Threshold", .double(t))) }
        if let id = a.thresholdMetricId { m.append(("ThresholdMetricId", .string(id))) }
        m += [
            ("ComparisonOperator", .string(a.comparison.rawValue)),
            ("TreatMissingData", .string(a.treatMissingData.rawValue)),
        ]
        if let e = a.evaluateLowSampleCountPercentile { m.append(("EvaluateLowSampleCountPercentile", .string(e.rawValue))) }
        m.append(("StateTransitionedTimestamp", .timestamp(Double(s.stateTransitioned) / 1000)))
        return .map(m)
    }

    /// A math alarm's `Metrics` (MetricDataQuery structures); the SNS alarm message writes dimension keys in lower case.
    package static func metrics(_ a: MetricAlarm, lowerCaseDimensions: Bool) -> WireValue {
        .array(a.metrics.map { q in
            var members: [(String, WireValue)] = [("Id", .string(q.id))]
            if let label = q.label { members.append(("Label", .string(label))) }
            switch q.source {
            case .metric(let series, let period, let statistic, let unit):
                var stat: [(String, WireValue)] = [
                    ("Metric", .map([("Namespace", .string(series.namespace)), ("MetricName", .string(series.name)),
                                     ("Dimensions", dimensions(series.dimensions, lowerCase: lowerCaseDimensions))])),
                    ("Period", .int(Int64(period))), ("Stat", .string(statistic.description)),
                ]
                if let unit { stat.append(("Unit", .string(unit.rawValue))) }
                members.append(("MetricStat", .map(stat)))
            case .expression(let text):
                members.append(("Expression", .string(text)))
                if let period = q.period { members.append(("Period", .int(Int64(period)))) }
            }
            members.append(("ReturnData", .bool(q.returnData)))
            return .map(members)
        })
    }

    static func dimensions(_ d: [String: String], lowerCase: Bool) -> WireValue {
        .array(d.sorted { $0.key < $1.key }.map {
            lowerCase ? .map([("value", .string($0.value)), ("name", .string($0.key))])
                : .map([("Name", .string($0.key)), ("Value", .string($0.value))])
        })
    }

    package static func arn(_ name: String, region: String, account: String) -> String {
        "arn:aws:cloudwatch:\(region):\(account):alarm:\(name)"
    }

    /// An `AlarmHistoryItem` structure.
    package static func historyItem(_ h: AlarmHistoryItem) -> WireValue {
        .map([
            ("AlarmName", .string(h.alarmName)),
            ("AlarmType", .string("MetricAlarm")),
            ("Timestamp", .timestamp(Double(h.timestamp) / 1000)),
            ("HistoryItemType", .string(h.kind.rawValue)),
            ("HistorySummary", .string(h.summary)),
            ("HistoryData", .string(h.data)),
        ])
    }

    /// StateReasonData as CloudWatch writes it:
    /// `{"version":"1.0","queryDate":"…+0000","startDate":"…","statistic":"Average","period":300,"recentDatapoints":[…],"threshold":50.0,…}`.
    package static func reasonDataJSON(_ d: AlarmReasonData) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("version", d.version)
        w.field("queryDate", AlarmFormat.timestamp(d.queryDate))
        if let start = d.startDate { w.field("startDate", AlarmFormat.timestamp(start)) }
        if case .percentile = d.statistic { w.field("extendedStatistic", d.statistic.description) } else { w.field("statistic", d.statistic.description) }
        if let unit = d.unit { w.field("unit", unit.rawValue) }
        w.field("period", d.period)
        w.key("recentDatapoints")
        w.beginArray()
        // Numbers as CloudWatch writes them (Java's text: 50.0, 1.0E7), all valid JSON.
        for v in d.recentDatapoints { if let v { w.raw(AlarmFormat.javaDouble(v)) } else { w.null() } }
        w.endArray()
        if let t = d.threshold { w.key("threshold"); w.raw(AlarmFormat.javaDouble(t)) }
        w.key("evaluatedDatapoints")
        w.beginArray()
        for p in d.evaluatedDatapoints {
            w.beginObject()
            w.field("timestamp", AlarmFormat.timestamp(p.timestamp))
            w.key("sampleCount"); w.raw(AlarmFormat.javaDouble(p.sampleCount))
            w.key("value"); w.raw(AlarmFormat.javaDouble(p.value))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// HistoryData of a StateUpdate: the old and new state with their reasons.
    package static func stateUpdateJSON(old: (AlarmState, String), new: (AlarmState, String), reasonData: String?) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("version", "1.0")
        w.key("oldState")
        w.beginObject()
        w.field("stateValue", old.0.rawValue)
        w.field("stateReason", old.1)
        w.endObject()
        w.key("newState")
        w.beginObject()
        w.field("stateValue", new.0.rawValue)
        w.field("stateReason", new.1)
        if let reasonData { w.key("stateReasonData"); w.raw(reasonData) }
        w.endObject()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
