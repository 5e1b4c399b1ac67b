import Foundation
import SkylensClient
import SkylensTesting
import SkylensWire
import Testing

/// The loop from log line to metric on the real collector: metric filters (created through the API), EMF
/// documents and Lambda platform lines, read back with GetMetricStatistics.
struct LogToMetricIntegrationTests {
    static let logs = "Logs_20140328."
    static let cw = "GraniteServiceVersion20100801."

    func sum(_ c: TestCollector, _ namespace: String, _ name: String, _ dims: [(String, String)], around t: Double) async throws -> Double? {
        let d = dims.map { #"{"Name":"\#($0.0)","Value":"\#($0.1)"}"# }.joined(separator: ",")
        let r = try await c.post(target: Self.cw + "GetMetricStatistics", body: """
            {"Namespace":"\(namespace)","MetricName":"\(name)","Dimensions":[\(d)],"StartTime":\(t - 120),"EndTime":\(t + 120),
             "Period":300,"Statistics":["Sum"]}
            """, contentType: "application/x-amz-json-1.0")
        return ((r.json["Datapoints"] as? [[String: Any]])?.first?["Sum"] as? Double)
    }

    @Test func filtersEMFAndPlatformLinesBecomeMetrics() async throws {
        try await TestCollector.with { c in
            try await c.client.ensureStream(group: "/aws/lambda/orders", stream: "s")
            let put = try await c.post(target: Self.logs + "PutMetricFilter", body: """
                {"logGroupName":"/aws/lambda/orders","filterName":"errors","filterPattern":"ERROR",
                 "metricTransformations":[{"metricName":"Errors","metricNamespace":"App","metricValue":"1","defaultValue":0}]}
                """)
            #expect(put.status == 200, "\(put.text)")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let emf = #"{"_aws":{"Timestamp":\#(now),"CloudWatchMetrics":[{"Namespace":"EMF","Dimensions":[[]],"Metrics":[{"Name":"Orders"}]}]},"Orders":[2,3]}"#
            _ = try await c.client.putLogEvents(group: "/aws/lambda/orders", stream: "s", events: [
                (now, "ERROR one"), (now + 1, "INFO two"), (now + 2, emf),
                (now + 3, "REPORT RequestId: 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\tDuration: 7.00 ms\tBilled Duration: 7 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t"),
            ])
            let t = Double(now) / 1000
            #expect(try await sum(c, "App", "Errors", [], around: t) == 1)
            #expect(try await sum(c, "EMF", "Orders", [], around: t) == 5)
            #expect(try await sum(c, "AWS/Lambda", "Invocations", [("FunctionName", "orders")], around: t) == 1)
            #expect(try await sum(c, "AWS/Lambda", "Duration", [("FunctionName", "orders")], around: t) == 7)
            let groups = try await c.post(target: Self.logs + "DescribeLogGroups", body: "{}")
            #expect((groups.json["logGroups"] as? [[String: Any]])?.first?["metricFilterCount"] as? Int == 1)
        }
    }

    @Test func filtersDoNotApplyRetroactively() async throws {
        try await TestCollector.with { c in
            try await c.client.ensureStream(group: "g", stream: "s")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await c.client.putLogEvents(group: "g", stream: "s", events: [(now, "ERROR before the filter existed")])
            _ = try await c.post(target: Self.logs + "PutMetricFilter", body: """
                {"logGroupName":"g","filterName":"f","filterPattern":"ERROR",
                 "metricTransformations":[{"metricName":"Late","metricNamespace":"App","metricValue":"1"}]}
                """)
            #expect(try await sum(c, "App", "Late", [], around: Double(now) / 1000) == nil)
        }
    }

    @Test func filtersSurviveARestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-mf-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await TestCollector.with(configure: { $0.dataDirectory = dir }) { c in
            try await c.client.ensureStream(group: "g", stream: "s")
            _ = try await c.post(target: Self.logs + "PutMetricFilter", body: """
                {"logGroupName":"g","filterName":"f","filterPattern":"{ $.ms > 0 }",
                 "metricTransformations":[{"metricName":"Ms","metricNamespace":"App","metricValue":"$.ms","unit":"Milliseconds"}]}
                """)
        }
        try await TestCollector.with(configure: { $0.dataDirectory = dir }) { c in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await c.client.putLogEvents(group: "g", stream: "s", events: [(now, #"{"ms":40}"#), (now + 1, #"{"ms":2}"#)])
            #expect(try await sum(c, "App", "Ms", [], around: Double(now) / 1000) == 42)
            let described = try await c.post(target: Self.logs + "DescribeMetricFilters", body: #"{"logGroupName":"g"}"#)
            let filters = described.json["metricFilters"] as? [[String: Any]] ?? []
            #expect(filters.map { $0["filterName"] as? String } == ["f"])
            let missing = try await c.post(target: Self.logs + "DeleteMetricFilter", body: #"{"logGroupName":"g","filterName":"nope"}"#)
            #expect(missing.json["__type"] as? String == "ResourceNotFoundException")
        }
    }
}
