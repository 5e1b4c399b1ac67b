import Foundation
import Testing
@testable import SkylensCore

/// The string-to-sign cases of `Conformance/formats.json` (section d-sns), and SNS's delivery policy phases.
struct SNSSigningConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var id: String
        var section: String?
        var kind: String?
        var message_fields: [String: String]?
        var expect_string_to_sign: String?
        var testDescription: String { id }
    }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "formats", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let all = try? JSONDecoder().decode([Case].self, from: data)
        else { return [] }
        return all.filter { $0.section == "d-sns" && $0.kind == "string-to-sign" }
    }()

    @Test func corpusIsLoaded() { #expect(Self.cases.count >= 3) }

    @Test(arguments: cases)
    func stringToSign(_ c: Case) throws {
        let fields = try #require(c.message_fields)
        #expect(SNSSigning.stringToSign(fields) == c.expect_string_to_sign)
    }

    @Test func subjectIsLeftOutWhenAbsent() {
        let s = SNSSigning.stringToSign(["Type": "Notification", "Message": "m", "MessageId": "1", "Timestamp": "t", "TopicArn": "a"])
        #expect(s == "Message\nm\nMessageId\n1\nTimestamp\nt\nTopicArn\na\nType\nNotification\n")
    }

    @Test func deliveryPolicyPhases() {
        let defaults = DeliveryPolicy()
        #expect((1...4).map { defaults.delay(beforeRetry: $0) } == [20, 20, 20, nil])
        var p = DeliveryPolicy()
        p.numRetries = 6
        p.numNoDelayRetries = 1
        p.numMinDelayRetries = 1
        p.numMaxDelayRetries = 1
        p.minDelayTarget = 1
        p.maxDelayTarget = 10
        #expect((1...7).map { p.delay(beforeRetry: $0) } == [0, 1, 1, 6, 10, 10, nil])
        #expect(DeliveryResult.http(status: 503) == .retryable("HTTP 503"))
        #expect(DeliveryResult.http(status: 404) == .permanent("HTTP 404"))
        #expect(DeliveryResult.http(status: 204) == .delivered)
    }
}
