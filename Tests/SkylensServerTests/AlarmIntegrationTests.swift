import Foundation
import SkylensServer
import SkylensTesting
import Testing

/// Alarms end to end on a real socket: PutMetricAlarm, datapoints, evaluation at period boundaries on a manual wall
/// clock, history, late datapoints, SetAlarmState, and a restart that resumes without spurious transitions.
struct AlarmIntegrationTests {
    static let target = "GraniteServiceVersion20100801."
    /// 10-second aligned.
    static let t0: Int64 = 1_800_000_000_000

    func call(_ c: TestCollector, _ op: String, _ body: String) async throws -> RawResponse {
        try await c.post(target: Self.target + op, body: body, contentType: "application/x-amz-json-1.0")
    }

    func put(_ c: TestCollector, _ value: Double, at ms: Int64) async throws {
        let r = try await call(c, "PutMetricData", """
            {"Namespace":"App","MetricData":[{"MetricName":"Errors","Dimensions":[{"Name":"Fn","Value":"a"}],
             "Timestamp":\(Double(ms) / 1000),"Value":\(value),"StorageResolution":1}]}
            """)
        #expect(r.status == 200, "\(r.text)")
    }

    func state(_ c: TestCollector) async throws -> String? {
        let r = try await call(c, "DescribeAlarms", #"{"AlarmNames":["errors-high"]}"#)
        return (r.json["MetricAlarms"] as? [[String: Any]])?.first?["StateValue"] as? String
    }

    func history(_ c: TestCollector) async throws -> [String] {
        let r = try await call(c, "DescribeAlarmHistory", #"{"AlarmName":"errors-high","HistoryItemType":"StateUpdate","ScanBy":"TimestampAscending"}"#)
        return (r.json["AlarmHistoryItems"] as? [[String: Any]] ?? []).compactMap { $0["HistorySummary"] as? String }
    }

    @Test func alarmFollowsDataAtPeriodBoundariesAndSurvivesARestart() async throws {
        let clock = ManualWallClock(Self.t0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-alarms-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await TestCollector.with(configure: { $0.dataDirectory = dir; $0.alarmInterval = .milliseconds(20) }, wallClock: clock) { c in
            let created = try await call(c, "PutMetricAlarm", """
                {"AlarmName":"errors-high","Namespace":"App","MetricName":"Errors","Dimensions":[{"Name":"Fn","Value":"a"}],
                 "Statistic":"Average","Period":10,"EvaluationPeriods":2,"Threshold":50,"ComparisonOperator":"GreaterThanThreshold"}
                """)
            #expect(created.status == 200, "\(created.text)")
            #expect(try await state(c) == "INSUFFICIENT_DATA")

            try await put(c, 100, at: Self.t0 + 1_000)
            try await put(c, 100, at: Self.t0 + 11_000)
            clock.set(Self.t0 + 20_000)
            _ = try await eventually("ALARM") { try await state(c) == "ALARM" ? true : nil }

            try await put(c, 0, at: Self.t0 + 21_000)
            try await put(c, 0, at: Self.t0 + 31_000)
            clock.set(Self.t0 + 40_000)
            _ = try await eventually("OK") { try await state(c) == "OK" ? true : nil }

            // Late datapoints for periods already evaluated re-evaluate the alarm without a new boundary.
            try await put(c, 500, at: Self.t0 + 22_000)
            try await put(c, 500, at: Self.t0 + 32_000)
            _ = try await eventually("ALARM after late datapoints") { try await state(c) == "ALARM" ? true : nil }

            let reason = try await call(c, "DescribeAlarms", #"{"StateValue":"ALARM"}"#)
            let alarm = try #require((reason.json["MetricAlarms"] as? [[String: Any]])?.first)
            let text = try #require(alarm["StateReason"] as? String)
            #expect(text.hasPrefix("Threshold Crossed: 2 out of the last 2 datapoints [250.0 ("), "\(text)")
            #expect((alarm["StateReasonData"] as? String)?.contains("\"recentDatapoints\":[100.0,100.0,250.0,250.0],\"threshold\":50.0") == true,
                    "\(alarm["StateReasonData"] ?? "")")
            #expect(try await history(c) == ["Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK",
                                             "Alarm updated from OK to ALARM"])
        }
        // A restart resumes the stored state: the first ticks find nothing new to report.
        try await TestCollector.with(configure: { $0.dataDirectory = dir; $0.alarmInterval = .milliseconds(20) }, wallClock: clock) { c in
            #expect(try await state(c) == "ALARM")
            let set = try await call(c, "SetAlarmState", #"{"AlarmName":"errors-high","StateValue":"OK","StateReason":"by hand"}"#)
            #expect(set.status == 200, "\(set.text)")
            #expect(try await state(c) == "OK")
            // The next evaluation (a new boundary) puts it back where the data says.
            clock.set(Self.t0 + 50_000)
            _ = try await eventually("ALARM again") { try await state(c) == "ALARM" ? true : nil }
            #expect(try await history(c).count == 5)
        }
    }

    /// A metric-math alarm (an error rate) and an anomaly-detection alarm (a band from three days of history), put
    /// through the API and evaluated on the manual clock.
    @Test func mathAndBandAlarms() async throws {
        let day: Int64 = 86_400_000
        let t0 = Self.t0 - Self.t0 % 60_000
        let clock = ManualWallClock(t0)
        try await TestCollector.with(configure: { $0.alarmInterval = .milliseconds(20) }, wallClock: clock) { c in
            func putValue(_ name: String, _ value: Double, at ms: Int64) async throws {
                let r = try await call(c, "PutMetricData", """
                    {"Namespace":"App","MetricData":[{"MetricName":"\(name)","Timestamp":\(Double(ms) / 1000),"Value":\(value)}]}
                    """)
                #expect(r.status == 200, "\(r.text)")
            }
            func stateOf(_ alarm: String) async throws -> String? {
                let r = try await call(c, "DescribeAlarms", #"{"AlarmNames":["\#(alarm)"]}"#)
                return (r.json["MetricAlarms"] as? [[String: Any]])?.first?["StateValue"] as? String
            }
            let stat = { (id: String, name: String, ret: Bool) in
                #"{"Id":"\#(id)","ReturnData":\#(ret),"MetricStat":{"Metric":{"Namespace":"App","MetricName":"\#(name)"},"Period":60,"Stat":"Sum"}}"#
            }
            let rate = try await call(c, "PutMetricAlarm", """
                {"AlarmName":"error-rate","EvaluationPeriods":1,"Threshold":5,"ComparisonOperator":"GreaterThanThreshold",
                 "Metrics":[\(stat("e", "Errors", false)),\(stat("i", "Invocations", false)),
                            {"Id":"rate","Expression":"100 * e / i","Label":"error rate %","ReturnData":true}]}
                """)
            #expect(rate.status == 200, "\(rate.text)")
            let band = try await call(c, "PutMetricAlarm", """
                {"AlarmName":"latency-anomaly","EvaluationPeriods":1,"ComparisonOperator":"GreaterThanUpperThreshold",
                 "ThresholdMetricId":"ad1","Metrics":[\(stat("m1", "Latency", true)),
                   {"Id":"ad1","Expression":"ANOMALY_DETECTION_BAND(m1, 2)","ReturnData":true}]}
                """)
            #expect(band.status == 200, "\(band.text)")
            let described = try await call(c, "DescribeAlarms", #"{"AlarmNames":["error-rate"]}"#)
            let metrics = (described.json["MetricAlarms"] as? [[String: Any]])?.first?["Metrics"] as? [[String: Any]]
            #expect(metrics?.map { $0["Id"] as? String } == ["e", "i", "rate"])

            for k in 1...3 { try await putValue("Latency", Double(10 + k % 2), at: t0 + 1_000 - Int64(k) * day) }
            try await putValue("Errors", 3, at: t0 + 1_000)
            try await putValue("Invocations", 20, at: t0 + 1_000)
            try await putValue("Latency", 30, at: t0 + 1_000)
            clock.set(t0 + 60_000)
            _ = try await eventually("the rate alarm") { try await stateOf("error-rate") == "ALARM" ? true : nil }
            _ = try await eventually("the band alarm") { try await stateOf("latency-anomaly") == "ALARM" ? true : nil }

            let bad = try await call(c, "PutMetricAlarm", """
                {"AlarmName":"x","EvaluationPeriods":1,"Threshold":5,"ComparisonOperator":"GreaterThanThreshold","Namespace":"App",
                 "Metrics":[\(stat("e", "Errors", true))]}
                """)
            #expect(bad.header("x-amzn-query-error") == "InvalidParameterCombination;Sender", "\(bad.text)")
        }
    }

    @Test(arguments: [
        (#""Period":45,"EvaluationPeriods":1"#, "InvalidParameterValue"),
        (#""Period":60,"EvaluationPeriods":1441"#, "InvalidParameterValue"),
        (#""Period":86400,"EvaluationPeriods":8"#, "InvalidParameterValue"),
        (#""Period":60,"EvaluationPeriods":2,"DatapointsToAlarm":3"#, "InvalidParameterValue"),
        (#""Period":60,"EvaluationPeriods":1,"TreatMissingData":"maybe""#, "InvalidParameterValue"),
    ] as [(String, String)])
    func putMetricAlarmValidation(_ fields: String, _ code: String) async throws {
        try await TestCollector.with { c in
            let r = try await call(c, "PutMetricAlarm", """
                {"AlarmName":"a","Namespace":"App","MetricName":"M","Statistic":"Average","Threshold":1,
                 "ComparisonOperator":"GreaterThanThreshold",\(fields)}
                """)
            #expect(r.status == 400)
            #expect(r.header("x-amzn-query-error") == "\(code);Sender", "\(r.text)")
            let missing = try await call(c, "DeleteAlarms", #"{"AlarmNames":["nope"]}"#)
            #expect(missing.header("x-amzn-query-error") == "ResourceNotFound;Sender")
        }
    }
}
