import Foundation
import Testing
@testable import SkylensCore
@testable import SkylensWire

/// The alarm message CloudWatch publishes to SNS, against the notification-shape case of the conformance corpus
/// (AL-138 in `Tests/SkylensCoreTests/Conformance/alarms.json`).
struct AlarmMessageTests {
    struct ShapeCase: Decodable {
        var id: String
        var category: String
        var required_fields: [String]?
        var required_trigger_fields: [String]?
        var sns_message: [String: AnyDecodable]?
    }

    struct AnyDecodable: Decodable {}

    static func shape() throws -> ShapeCase {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SkylensCoreTests/Conformance/alarms.json")
        let cases = try JSONDecoder().decode([ShapeCase].self, from: Data(contentsOf: url))
        return try #require(cases.first { $0.category == "notification-shape" && $0.required_fields != nil })
    }

    @Test func messageHasCloudWatchsFieldsAndCasing() throws {
        let shape = try Self.shape()
        var alarm = MetricAlarm(name: "orders-errors", series: MetricSeries(namespace: "AWS/Lambda", name: "Errors", dimensions: ["FunctionName": "orders"]),
                                statistic: .average, period: 60, evaluationPeriods: 1, threshold: 0, comparison: .greaterThanThreshold)
        alarm.alarmActions = ["arn:aws:sns:us-east-1:000000000000:ops"]
        let text = SNSMessages.alarmMessage(alarm, old: .insufficientData, new: .alarm,
                                            reason: "Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (03/06/15 17:43:27)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
                                            changedAt: 1_433_353_407_123, configurationUpdated: 1_433_353_000_000, region: "us-east-1",
                                            account: "000000000000")
        let message = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for field in shape.required_fields ?? [] { #expect(message.keys.contains(field), "\(shape.id): \(field)") }
        let trigger = try #require(message["Trigger"] as? [String: Any])
        for field in shape.required_trigger_fields ?? [] { #expect(trigger.keys.contains(field), "\(shape.id): Trigger.\(field)") }
        #expect(trigger["Statistic"] as? String == "AVERAGE")
        #expect(trigger["StatisticType"] as? String == "Statistic")
        #expect(trigger["Dimensions"] as? [[String: String]] == [["value": "orders", "name": "FunctionName"]])
        #expect(trigger["Unit"] is NSNull)
        #expect(message["StateChangeTime"] as? String == "2015-06-03T17:43:27.123+0000")
        #expect(message["Region"] as? String == "US East (N. Virginia)")
        #expect(message["AlarmArn"] as? String == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-errors")
        #expect(message["AlarmDescription"] is NSNull)
        #expect(SNSMessages.alarmSubject("orders-errors", state: .alarm, region: "eu-west-1") == #"ALARM: "orders-errors" in EU (Ireland)"#)
    }
}

/// The validation cases of `alarms.json`: PutMetricAlarm rejects them with one of the codes CloudWatch uses.
struct AlarmValidationConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Expected: Decodable, Sendable { var code: String?; var code_any_of: [String]? }
        var id: String
        var category: String
        var alarm: [String: JSONScalar]?
        var expect_error: Expected?
        var testDescription: String { id }
    }

    /// A value of a case's alarm: a number, a flag, a string or a list of strings (actions).
    enum JSONScalar: Decodable, Sendable {
        case number(Double), flag(Bool), text(String), list([String])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .text(s) }
            else { self = .list(try c.decode([String].self)) }
        }
        var wire: WireValue {
            switch self {
            case .number(let n): .double(n)
            case .flag(let b): .bool(b)
            case .text(let s): .string(s)
            case .list(let l): .array(l.map(WireValue.string))
            }
        }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SkylensCoreTests/Conformance/alarms.json")
        guard let data = try? Data(contentsOf: url), let all = try? JSONDecoder().decode([Case].self, from: data) else { return [] }
        return all.filter { $0.category == "validation" }
    }()

    @Test func corpusIsLoaded() { #expect(Self.cases.count == 4) }

    @Test(arguments: cases)
    func rejected(_ c: Case) throws {
        let alarm = try #require(c.alarm)
        let body = WireValue.map([("AlarmName", .string(c.id))] + alarm.sorted { $0.key < $1.key }.map { ($0.key, $0.value.wire) })
        let expected = try #require(c.expect_error)
        let allowed = expected.code_any_of ?? [expected.code].compactMap { $0 }
        do {
            _ = try CloudWatchRequests.putMetricAlarm(body)
            Issue.record("\(c.id) was accepted")
        } catch {
            #expect(allowed.contains(error.code.rawValue), "\(c.id): \(error)")
        }
    }
}
