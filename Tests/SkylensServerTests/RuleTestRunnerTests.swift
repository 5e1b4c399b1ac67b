import SkylensRules
import SkylensServer
import Testing

/// `skylens rules test`'s runner: expectations that hold pass, and each one that does not is reported.
struct RuleTestRunnerTests {
    static let rulesYAML = """
        Resources:
          Ops:
            Type: AWS::SNS::Topic
            Properties: { TopicName: ops }
          Errors:
            Type: AWS::Logs::MetricFilter
            Properties:
              LogGroupName: /app/*
              FilterPattern: ERROR
              MetricTransformations: [{ MetricName: Errors, MetricNamespace: App, MetricValue: "1" }]
          ErrorsHigh:
            Type: AWS::CloudWatch::Alarm
            Properties:
              Namespace: App
              MetricName: Errors
              Statistic: Sum
              Period: 60
              EvaluationPeriods: 2
              Threshold: 2
              ComparisonOperator: GreaterThanOrEqualToThreshold
              AlarmActions: [!Ref Ops]
        """

    func run(_ tests: String) async throws -> [RuleTestRunner.Outcome] {
        var rules = RuleSet()
        #expect(RuleFileParser(file: "r.yaml", text: Self.rulesYAML).parse(into: &rules).isEmpty)
        return try await RuleTestRunner.run(try RuleTestFile.parse(tests, file: "t.yaml"), rules: rules)
    }

    @Test func expectationsPassOrAreReported() async throws {
        let outcomes = try await run("""
            tests:
              - name: two minutes of errors
                logs:
                  - { group: /app/api, at: 10s, message: "ERROR a" }
                  - { group: /app/api, at: 20s, message: "ERROR b" }
                  - { group: /app/worker, at: 70s, message: "ERROR c" }
                  - { group: /app/worker, at: 80s, message: "ERROR d" }
                expect_metrics:
                  - { namespace: App, metric: Errors, at: 0s, value: 2 }
                  - { namespace: App, metric: Errors, at: 1m, value: 2 }
                  - { namespace: App, metric: Errors, at: 2m, value: null }
                expect_alarms:
                  # One errored minute of two, too recent for the premature-alarm rule: OK, not yet ALARM.
                  - { alarm: ErrorsHigh, at: 1m50s, state: OK }
                  - { alarm: ErrorsHigh, at: 2m, state: ALARM }
                expect_notifications:
                  - { topic: ops, alarm: ErrorsHigh, state: ALARM }
              - name: wrong on purpose
                logs:
                  - { group: /app/api, at: 10s, message: "ERROR a" }
                expect_metrics:
                  - { namespace: App, metric: Errors, at: 0s, value: 5 }
                expect_alarms:
                  - { alarm: ErrorsHigh, at: 2m, state: ALARM }
                  - { alarm: Nope, at: 2m, state: OK }
                expect_notifications:
                  - { topic: ops, alarm: ErrorsHigh, state: ALARM }
            """)
        #expect(outcomes.map(\.passed) == [true, false], "\(outcomes.map(\.failures))")
        let failures = outcomes[1].failures
        #expect(failures.count == 4, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("at 2m: alarm ErrorsHigh is OK, expected ALARM") })
        #expect(failures.contains("no alarm named Nope in the rules"))
        #expect(failures.contains("metric App/Errors Sum at 0s: 1.0, expected 5.0"))
        #expect(failures.contains("notifications: none, expected ALARM ErrorsHigh → ops"))
    }

    @Test func badOffsetsAreErrors() async throws {
        await #expect(throws: RuleTestFile.Invalid.self) {
            _ = try await run("tests:\n  - name: x\n    expect_alarms: [{ alarm: ErrorsHigh, at: soon, state: OK }]\n")
        }
    }
}
