import Foundation
import SkylensServer
import SkylensTesting
import Testing

/// SNS-style deliveries survive a receiver outage and a collector restart: every notification arrives after
/// recovery (at least once) or sits in the dead-letter queue, from which it can be replayed.
struct DeliveryIntegrationTests {
    func sns(_ c: TestCollector, _ form: String) async throws -> RawResponse {
        try await c.post(target: nil, body: "Version=2010-03-31&" + form, contentType: "application/x-www-form-urlencoded")
    }

    /// The text of the first `<name>…</name>` element.
    func element(_ name: String, _ xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    func messageIds(_ receiver: TestReceiver, type: String = "Notification") -> Set<String> {
        Set(receiver.received.filter { $0.headers["x-amz-sns-message-type"] == type }.compactMap { $0.headers["x-amz-sns-message-id"] })
    }

    @Test func outageAndRestartLoseNothing() async throws {
        let clock = ManualWallClock(1_800_000_000_000)
        let receiver = TestReceiver()
        try await receiver.start()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-deliveries-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configure: @Sendable (inout CollectorConfiguration) -> Void = {
            $0.dataDirectory = dir
            $0.deliveryInterval = .milliseconds(20)
            $0.deliveryTimeout = .seconds(1)
        }
        let (topic, published) = try await TestCollector.with(configure: configure, wallClock: clock) { c -> (String, Set<String>) in
            let topic = try #require(element("TopicArn", try await sns(c, "Action=CreateTopic&Name=ops").text))
            let subscribed = try await sns(c, "Action=Subscribe&TopicArn=\(topic)&Protocol=http&Endpoint=\(receiver.url)")
            #expect(element("SubscriptionArn", subscribed.text) == "pending confirmation")
            let confirmation = try await eventually("a SubscriptionConfirmation") {
                receiver.received.first { $0.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation" }
            }
            let document = try #require(try JSONSerialization.jsonObject(with: Data(confirmation.body.utf8)) as? [String: Any])
            let token = try #require(document["Token"] as? String)
            let confirmed = try await sns(c, "Action=ConfirmSubscription&TopicArn=\(topic)&Token=\(token)")
            let subscription = try #require(element("SubscriptionArn", confirmed.text))
            let policy = #"{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":1}}"#
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(try await sns(c, "Action=SetSubscriptionAttributes&SubscriptionArn=\(subscription)&AttributeName=DeliveryPolicy&AttributeValue=\(policy)").status == 200)

            // The receiver goes away; five messages are published and their first attempts are refused.
            await receiver.stop()
            var published: Set<String> = []
            for k in 1...5 {
                published.insert(try #require(element("MessageId", try await sns(c, "Action=Publish&TopicArn=\(topic)&Message=m\(k)").text)))
            }
            // Every first attempt is refused and recorded as retryable: five pending, five retrying, none dead.
            let dlq = try await eventually("five refused first attempts") { () -> [String: Any]? in
                let json = try await c.get("/_skylens/dlq").json
                return json["retrying"] as? Int == 5 ? json : nil
            }
            #expect(dlq["pending"] as? Int == 5)
            #expect((dlq["deadLetters"] as? [Any])?.isEmpty == true)
            return (topic, published)
        }
        // The collector restarts with the deliveries still in its outbox; the receiver comes back.
        try await receiver.start()
        try await TestCollector.with(configure: configure, wallClock: clock) { c in
            clock.advance(by: 2_000)
            // A first attempt after the restart may still fail (a pooled connection to the receiver's previous
            // instance); it is then retried a second later by the policy, so the manual clock moves on while we wait.
            var polls = 0
            _ = try await eventually("every notification after recovery") { () -> Bool? in
                if messageIds(receiver).isSuperset(of: published) { return true }
                polls += 1
                if polls.isMultiple(of: 20) { clock.advance(by: 1_000) }
                return nil
            }
            #expect(messageIds(receiver) == published)
            _ = try await eventually("an empty outbox") { try await c.get("/_skylens/dlq").json["pending"] as? Int == 0 ? true : nil }

            // A receiver that refuses for good (404) sends the message to the dead-letter queue; replay delivers it.
            receiver.answer(404)
            let refused = try #require(element("MessageId", try await sns(c, "Action=Publish&TopicArn=\(topic)&Message=late").text))
            let dead = try await eventually("a dead letter") { () -> [[String: Any]]? in
                let letters = try await c.get("/_skylens/dlq").json["deadLetters"] as? [[String: Any]] ?? []
                return letters.isEmpty ? nil : letters
            }
            #expect(dead.first?["messageId"] as? String == refused)
            #expect(dead.first?["lastError"] as? String == "HTTP 404")
            receiver.answer(200)
            let replay = try await c.post(path: "/_skylens/dlq/replay", body: "")
            #expect(replay.json["replayed"] as? Int == 1)
            _ = try await eventually("the replayed message") { () -> Bool? in
                let last = receiver.received.last
                guard last?.headers["x-amz-sns-message-id"] == refused, last?.headers["x-amz-sns-message-type"] == "Notification" else { return nil }
                let letters = try await c.get("/_skylens/dlq").json["deadLetters"] as? [Any] ?? []
                return letters.isEmpty ? true : nil
            }
        }
        await receiver.stop()
    }

    /// An async hop stays one trace: a Publish carrying X-Amzn-Trace-Id (an instrumented publisher) hands the header
    /// to every delivery, so the subscriber's segment continues the publisher's trace.
    @Test func publishPassesTheTracingHeaderOn() async throws {
        let receiver = TestReceiver()
        try await receiver.start()
        try await TestCollector.with(configure: { $0.deliveryInterval = .milliseconds(20) }) { c in
            let topic = try #require(element("TopicArn", try await sns(c, "Action=CreateTopic&Name=orders").text))
            _ = try await sns(c, "Action=Subscribe&TopicArn=\(topic)&Protocol=http&Endpoint=\(receiver.url)")
            let confirmation = try await eventually("a SubscriptionConfirmation") {
                receiver.received.first { $0.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation" }
            }
            #expect(confirmation.headers["x-amzn-trace-id"] == nil)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(confirmation.body.utf8)) as? [String: Any])
            _ = try await sns(c, "Action=ConfirmSubscription&TopicArn=\(topic)&Token=\(try #require(document["Token"] as? String))")
            let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            let published = try await c.post(target: nil, body: "Version=2010-03-31&Action=Publish&TopicArn=\(topic)&Message=hi",
                                              contentType: "application/x-www-form-urlencoded", headers: [("X-Amzn-Trace-Id", header)])
            #expect(published.status == 200)
            let delivered = try await eventually("the notification") {
                receiver.received.first { $0.headers["x-amz-sns-message-type"] == "Notification" }
            }
            #expect(delivered.headers["x-amzn-trace-id"] == header)
        }
        await receiver.stop()
    }
}
