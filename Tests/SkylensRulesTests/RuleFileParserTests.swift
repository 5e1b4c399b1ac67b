import Foundation
import Testing
@testable import SkylensRules

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
                Type: AWS::CloudWatch::Alarm
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
        #expect(byLine[10]?.message.contains("AWS::CloudWatch::Alarm is not supported") == true, "\(diagnostics)")
        #expect(byLine[15]?.message.contains("Nowhere") == true, "\(diagnostics)")
        #expect(diagnostics.allSatisfy { $0.description.hasPrefix("r.yaml:\($0.line):\($0.column): error: ") })
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
}
