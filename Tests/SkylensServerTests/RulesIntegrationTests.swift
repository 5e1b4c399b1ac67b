import Foundation
import SkylensTesting
import Testing

/// Rules from files: groups created at start-up, metric filters applied at ingest (including `/prefix/*` groups),
/// and a collector with invalid rules refusing to start.
struct RulesIntegrationTests {
    func rulesDirectory(_ yaml: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try yaml.write(toFile: dir + "/rules.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func ruleGroupsAndFiltersApply() async throws {
        let dir = try rulesDirectory("""
            Resources:
              Orders:
                Type: AWS::Logs::LogGroup
                Properties: { LogGroupName: /aws/lambda/orders, RetentionInDays: 7 }
              Errors:
                Type: AWS::Logs::MetricFilter
                Properties:
                  LogGroupName: /aws/lambda/*
                  FilterPattern: ERROR
                  MetricTransformations:
                    - { MetricName: ErrorLines, MetricNamespace: Fleet, MetricValue: "1" }
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await TestCollector.with(configure: { $0.rulesDirectory = dir }) { c in
            let group = try await eventually("the rule group exists") { () -> [String: Any]? in
                let r = try await c.post(target: "Logs_20140328.DescribeLogGroups", body: #"{"logGroupNamePrefix":"/aws/lambda/orders"}"#)
                return (r.json["logGroups"] as? [[String: Any]])?.first
            }
            #expect(group["retentionInDays"] as? Int == 7)
            try await c.client.ensureStream(group: "/aws/lambda/orders", stream: "s")
            try await c.client.ensureStream(group: "/aws/lambda/other", stream: "s")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await c.client.putLogEvents(group: "/aws/lambda/orders", stream: "s", events: [(now, "ERROR a")])
            _ = try await c.client.putLogEvents(group: "/aws/lambda/other", stream: "s", events: [(now, "ERROR b"), (now + 1, "ERROR c")])
            let t = Double(now) / 1000
            let r = try await c.post(target: "GraniteServiceVersion20100801.GetMetricStatistics", body: """
                {"Namespace":"Fleet","MetricName":"ErrorLines","StartTime":\(t - 120),"EndTime":\(t + 120),"Period":300,"Statistics":["Sum"]}
                """, contentType: "application/x-amz-json-1.0")
            #expect((r.json["Datapoints"] as? [[String: Any]])?.first?["Sum"] as? Double == 3)
            let described = try await c.post(target: "Logs_20140328.DescribeMetricFilters", body: #"{"logGroupName":"/aws/lambda/other"}"#)
            #expect((described.json["metricFilters"] as? [[String: Any]])?.map { $0["filterName"] as? String } == ["Errors"])
        }
    }

    @Test func invalidRulesStopTheCollectorFromStarting() async throws {
        let dir = try rulesDirectory("Resources:\n  X:\n    Type: AWS::SNS::Topic\n    Properties: { TopicName: \"not valid!\" }\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect(throws: (any Error).self) {
            try await TestCollector.with(configure: { $0.rulesDirectory = dir }) { _ in }
        }
    }

    /// Topics and alarms declared in rules exist when the collector runs; a restart with the same rules leaves them
    /// (state and history) as they were.
    @Test func ruleTopicsAndAlarmsApplyOnceAcrossRestarts() async throws {
        let rules = try rulesDirectory("""
            Resources:
              Ops:
                Type: AWS::SNS::Topic
                Properties: { TopicName: ops }
              ErrorsHigh:
                Type: AWS::CloudWatch::Alarm
                Properties:
                  AlarmName: errors-high
                  Namespace: AWS/Lambda
                  MetricName: Errors
                  Dimensions: [{ Name: FunctionName, Value: orders }]
                  Statistic: Sum
                  Period: 60
                  EvaluationPeriods: 1
                  Threshold: 1
                  ComparisonOperator: GreaterThanOrEqualToThreshold
                  AlarmActions: [!Ref Ops]
            """)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-rules-data-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: rules)
            try? FileManager.default.removeItem(atPath: data)
        }
        @Sendable func history(_ c: TestCollector) async throws -> Int {
            let r = try await c.post(target: "GraniteServiceVersion20100801.DescribeAlarmHistory", body: #"{"AlarmName":"errors-high"}"#,
                                     contentType: "application/x-amz-json-1.0")
            return (r.json["AlarmHistoryItems"] as? [Any])?.count ?? -1
        }
        for _ in 0..<2 {
            try await TestCollector.with(configure: { $0.rulesDirectory = rules; $0.dataDirectory = data }) { c in
                let alarm = try await eventually("the rule alarm exists") { () -> [String: Any]? in
                    let r = try await c.post(target: "GraniteServiceVersion20100801.DescribeAlarms", body: "{}",
                                             contentType: "application/x-amz-json-1.0")
                    return (r.json["MetricAlarms"] as? [[String: Any]])?.first
                }
                #expect(alarm["AlarmActions"] as? [String] == ["arn:aws:sns:us-east-1:000000000000:ops"])
                let topics = try await c.post(target: nil, body: "Action=ListTopics&Version=2010-03-31",
                                              contentType: "application/x-www-form-urlencoded")
                #expect(topics.text.contains("<TopicArn>arn:aws:sns:us-east-1:000000000000:ops</TopicArn>"))
                #expect(try await history(c) == 1)
            }
        }
    }
}
