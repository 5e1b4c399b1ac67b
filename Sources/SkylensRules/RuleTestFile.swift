import Foundation
import SkylensCore
import Yams

/// A rule test file (`rules/tests/*.yaml`), promtool-style: inputs at virtual times, expected metrics, alarm states
/// and notifications out.
///
/// ```yaml
/// rules: [../lambda-alarms.yaml]          # rule files, relative to this file (default: every file of ../)
/// tests:
///   - name: errors page the on-call
///     logs:
///       - { group: /aws/lambda/orders, at: 30s, message: "ERROR payment declined" }
///     datapoints:
///       - { namespace: AWS/Lambda, metric: Errors, dimensions: { FunctionName: orders }, at: 70s, value: 2 }
///     expect_metrics:
///       - { namespace: AWS/Lambda, metric: Errors, dimensions: { FunctionName: orders }, at: 1m, stat: Sum, value: 2 }
///     expect_alarms:
///       - { alarm: orders-errors-high, at: 2m, state: ALARM }
///     expect_notifications:               # every notification of the test, in order
///       - { topic: skylens-alarms, alarm: orders-errors-high, state: ALARM }
/// ```
/// Times are offsets from the test's start (`start`, default 2026-01-01T00:00:00Z): `90s`, `1m30s`, `2h`.
package struct RuleTestFile: Decodable, Sendable {
    package var rules: [String]?
    package var start: String?
    package var tests: [Case]

    package struct Case: Decodable, Sendable {
        package var name: String
        package var logs: [LogInput]?
        package var datapoints: [DatapointInput]?
        package var expect_metrics: [MetricExpectation]?
        package var expect_alarms: [AlarmExpectation]?
        package var expect_notifications: [NotificationExpectation]?
    }

    package struct LogInput: Decodable, Sendable {
        package var group: String
        package var at: String
        package var message: String
    }

    package struct DatapointInput: Decodable, Sendable {
        package var namespace: String
        package var metric: String
        package var dimensions: [String: String]?
        package var at: String
        package var value: Double
        package var unit: String?
    }

    package struct MetricExpectation: Decodable, Sendable {
        package var namespace: String
        package var metric: String
        package var dimensions: [String: String]?
        /// The period's start.
        package var at: String
        package var period: Int?
        package var stat: String?
        /// nil: the period must have no datapoint.
        package var value: Double?
    }

    package struct AlarmExpectation: Decodable, Sendable {
        package var alarm: String
        package var at: String
        package var state: String
    }

    package struct NotificationExpectation: Decodable, Sendable, Equatable {
        package var topic: String
        package var alarm: String
        package var state: String

        package init(topic: String, alarm: String, state: String) {
            self.topic = topic
            self.alarm = alarm
            self.state = state
        }
    }

    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// Reads a test file.
    package static func parse(_ text: String, file: String) throws(Invalid) -> RuleTestFile {
        do {
            return try YAMLDecoder().decode(RuleTestFile.self, from: text)
        } catch {
            throw Invalid(description: "\(file): \(error)")
        }
    }

    /// An offset such as `90s` or `1m30s` in milliseconds.
    package static func offset(_ text: String) throws(Invalid) -> Int64 {
        if let seconds = Int64(text) { return seconds * 1000 }
        guard let ms = TimeExpression.duration(text) else { throw Invalid(description: "'\(text)' is not an offset such as 90s or 1m30s") }
        return ms
    }
}
