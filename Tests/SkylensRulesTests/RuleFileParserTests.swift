import Foundation
import Testing
@testable import SkylensRules
import SkylensCore

struct RuleFileParserTests {
    func parse(_ yaml: String) -> (RuleSet, [RuleDiagnostic]) {
        var rules = RuleSet()
        let d = RuleFileParser(file: "r.yaml", text: yaml).parse(into: &rules)
        return (rules, d)
    }

    @Test func readsGroupsAndFiltersWithBothRefForms() {
        let (rules, diagnostics) = parse("""
            Parameters:
              Group:
                Type: String
                Default: /aws/lambda/payments
            Resources:
              OrdersLogs:
                Type: AWS::Logs::LogGroup
                Properties:
                  LogGroupName: /aws/lambda/orders
                  RetentionInDays: 14
              OrdersErrors:
                Type: AWS::Logs::MetricFilter
                Properties:
                  LogGroupName: !Ref OrdersLogs
                  FilterPattern: '{ $.level = "ERROR" }'
                  MetricTransformations:
                    - MetricName: Errors
                      MetricNamespace: Orders
                      MetricValue: "1"
                      Unit: Count
                      Dimensions:
                        - { Key: service, Value: $.service }
              PaymentsTimeouts:
                Type: AWS::Logs::MetricFilter
                Properties:
                  FilterName: timeouts
                  LogGroupName: { Ref: Group }
                  FilterPattern: '"Task timed out"'
                  MetricTransformations:
                    - { MetricName: Timeouts, MetricNamespace: Payments, MetricValue: "1", DefaultValue: 0 }
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(rules.logGroups == [.init(name: "/aws/lambda/orders", retentionInDays: 14)])
        #expect(rules.metricFilters.map(\.group) == ["/aws/lambda/orders", "/aws/lambda/payments"])
        #expect(rules.metricFilters.map(\.name) == ["OrdersErrors", "timeouts"])
        #expect(rules.metricFilters[0].transformation.dimensions == ["service": "$.service"])
        #expect(rules.metricFilters[1].transformation.defaultValue == 0)
    }

    @Test func problemsAreReportedWithFileLineAndColumn() {
        let (_, diagnostics) = parse("""
            Resources:
              Bad:
                Type: AWS::Logs::MetricFilter
                Properties:
                  LogGroupName: g
                  FilterPattern: '{ $.a = null }'
                  MetricTransformations:
                    - { MetricName: M, MetricNamespace: N, MetricValue: "1" }
              Alarm:
                Type: AWS::Lambda::Function
                Properties: {}
              Dims:
                Type: AWS::Logs::MetricFilter
                Properties:
                  LogGroupName: !Ref Nowhere
                  FilterPattern: ERROR
                  MetricTransformations:
                    - { MetricName: M, MetricNamespace: N, MetricValue: "1" }
            """)
        #expect(diagnostics.count == 3, "\(diagnostics)")
        let byLine = Dictionary(diagnostics.map { ($0.line, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byLine[6]?.message.contains("Invalid metric filter pattern") == true, "\(diagnostics)")
        #expect(byLine[6]?.column == 22)
        #expect(byLine[10]?.message.contains("AWS::Lambda::Function is not supported") == true, "\(diagnostics)")
        #expect(byLine[15]?.message.contains("Nowhere") == true, "\(diagnostics)")
        #expect(diagnostics.allSatisfy { $0.description.hasPrefix("r.yaml:\($0.line):\($0.column): error: ") })
    }

    @Test func alarmsTopicsAndSubscriptionsWithRefGetAttAndSub() {
        let (rules, diagnostics) = parse("""
            Parameters:
              Fn: { Type: String, Default: orders }
            Resources:
              Ops:
                Type: AWS::SNS::Topic
                Properties:
                  TopicName: ops
                  Subscription: [{ Protocol: https, Endpoint: "https://hooks.example/ops" }]
              Hook:
                Type: AWS::SNS::Subscription
                Properties:
                  TopicArn: !GetAtt Ops.TopicArn
                  Protocol: http
                  Endpoint: !Sub "http://127.0.0.1:9000/${Fn}"
                  RawMessageDelivery: "true"
                  DeliveryPolicy: { healthyRetryPolicy: { numRetries: 5, minDelayTarget: 2, maxDelayTarget: 10 } }
              ErrorsHigh:
                Type: AWS::CloudWatch::Alarm
                Properties:
                  AlarmName: !Sub "${Fn}-errors"
                  Namespace: AWS/Lambda
                  MetricName: Errors
                  Dimensions: [{ Name: FunctionName, Value: !Ref Fn }]
                  Statistic: Sum
                  Period: 60
                  EvaluationPeriods: 3
                  DatapointsToAlarm: 2
                  Threshold: 1
                  ComparisonOperator: GreaterThanOrEqualToThreshold
                  TreatMissingData: notBreaching
                  AlarmActions: [!Ref Ops, { "Fn::Sub": "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:other" }]
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(rules.topics == [.init(name: "ops", displayName: "")])
        #expect(rules.subscriptions.map(\.endpoint) == ["https://hooks.example/ops", "http://127.0.0.1:9000/orders"])
        #expect(rules.subscriptions.map(\.topicArn) == Array(repeating: "arn:aws:sns:us-east-1:000000000000:ops", count: 2))
        #expect(rules.subscriptions[1].rawMessageDelivery)
        #expect(rules.subscriptions[1].deliveryPolicy?.contains("\"numRetries\":") == true)
        let alarm = try? #require(rules.alarms.first)
        #expect(alarm?.name == "orders-errors")
        #expect(alarm?.series == MetricSeries(namespace: "AWS/Lambda", name: "Errors", dimensions: ["FunctionName": "orders"]))
        #expect(alarm?.datapointsToAlarm == 2 && alarm?.threshold == 1 && alarm?.treatMissingData == .notBreaching)
        #expect(alarm?.alarmActions == ["arn:aws:sns:us-east-1:000000000000:ops", "arn:aws:sns:us-east-1:000000000000:other"])
    }

    @Test func invalidAlarmsAreRejectedAsPutMetricAlarmWould() {
        let (rules, diagnostics) = parse("""
            Resources:
              Bad:
                Type: AWS::CloudWatch::Alarm
                Properties:
                  Namespace: App
                  MetricName: Errors
                  Statistic: Sum
                  Period: 45
                  EvaluationPeriods: 1
                  Threshold: 1
                  ComparisonOperator: GreaterThanThreshold
                  AlarmActions: [!GetAtt Nowhere.TopicArn]
            """)
        #expect(rules.alarms.isEmpty)
        #expect(diagnostics.count == 1, "\(diagnostics)")
        #expect(diagnostics.first?.message.contains("GetAtt Nowhere.TopicArn") == true, "\(diagnostics)")
        let (_, period) = parse("""
            Resources:
              Bad:
                Type: AWS::CloudWatch::Alarm
                Properties: { Namespace: App, MetricName: Errors, Statistic: Sum, Period: 45, EvaluationPeriods: 1, Threshold: 1,
                              ComparisonOperator: GreaterThanThreshold }
            """)
        #expect(period.first?.message.contains("Period must be 10, 20, 30 or a multiple of 60") == true, "\(period)")
        #expect(period.first?.line == 4)
    }

    @Test func yamlSyntaxErrorsAreLocated() {
        let (_, diagnostics) = parse("Resources:\n  A: [unclosed\n")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.message.hasPrefix("YAML") == true)
    }

    @Test func theRepositoryDefaultsLoad() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("rules").path
        let rules = try RulesLoader.load(directory: dir).get()
        #expect(rules.metricFilters.count >= 3)
    }

    @Test func samplingRulesAreReadAndChecked() {
        let (rules, problems) = parse("""
            Resources:
              Orders:
                Type: AWS::XRay::SamplingRule
                Properties:
                  SamplingRule: { RuleName: orders, Priority: 10, FixedRate: 0.5, ReservoirSize: 2, ServiceName: orders,
                                  ServiceType: "*", Host: "*", HTTPMethod: POST, URLPath: /orders*, ResourceARN: "*", Version: 1 }
              Bad:
                Type: AWS::XRay::SamplingRule
                Properties:
                  SamplingRule: { RuleName: bad, Priority: 10, FixedRate: 1.5, ReservoirSize: 1 }
            """)
        #expect(rules.samplingRules.map(\.name) == ["orders"])
        #expect(rules.samplingRules.first?.httpMethod == "POST")
        #expect(rules.samplingRules.first?.urlPath == "/orders*")
        #expect(rules.samplingRules.first?.fixedRate == 0.5)
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("FixedRate is between 0 and 1") == true)
        #expect(problems.first?.line == 10)
    }
}
