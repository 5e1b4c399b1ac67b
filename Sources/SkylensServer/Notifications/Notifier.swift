import Foundation
import Logging
import SkylensCore
import SkylensStorage
import SkylensWire

/// Topics, subscriptions and publishing: every message bound for an HTTP endpoint is signed and written to the
/// outbox before anything is sent (``DeliveryService`` sends it). Also publishes the alarm messages of alarm actions.
package struct Notifier: Sendable {
    package let store: any NotificationStore
    let signer: SNSSigner
    let alarms: (any AlarmStore)?
    let wallClock: any WallClock
    let region: String
    let account: String
    /// The collector's own URL (`http://127.0.0.1:<port>`), for SubscribeURL, UnsubscribeURL and SigningCertURL.
    let baseURL: @Sendable () -> String
    let logger: Logger

    package init(store: any NotificationStore, signer: SNSSigner, alarms: (any AlarmStore)?, wallClock: any WallClock, region: String,
                 account: String, baseURL: @escaping @Sendable () -> String, logger: Logger) {
        self.store = store
        self.signer = signer
        self.alarms = alarms
        self.wallClock = wallClock
        self.region = region
        self.account = account
        self.baseURL = baseURL
        self.logger = logger
    }

    package static let certificatePath = "/_skylens/sns/SimpleNotificationService.pem"
    package static let confirmPath = "/_skylens/sns/confirm"
    package static let unsubscribePath = "/_skylens/sns/unsubscribe"

    package func topicArn(_ name: String) -> String { "arn:aws:sns:\(region):\(account):\(name)" }

    /// Subscribes an HTTP/S endpoint: the subscription is pending until confirmed, and a SubscriptionConfirmation
    /// goes out first.
    package func subscribe(topic: Topic, protocolName: String, endpoint: String, rawMessageDelivery: Bool,
                           deliveryPolicy: String?) async throws -> Subscription {
        let subscription = Subscription(arn: "\(topic.arn):\(UUID().uuidString.lowercased())", topicArn: topic.arn, protocolName: protocolName,
                                        endpoint: endpoint, confirmed: false, token: Self.token(), rawMessageDelivery: rawMessageDelivery,
                                        deliveryPolicy: deliveryPolicy)
        try await store.addSubscription(subscription)
        let subscribeURL = baseURL() + Self.confirmPath + "?Action=ConfirmSubscription&TopicArn=\(Self.escaped(topic.arn))&Token=\(subscription.token)"
        let fields = SNSMessages.Fields(
            type: "SubscriptionConfirmation", messageId: UUID().uuidString.lowercased(), topicArn: topic.arn,
            message: "You have chosen to subscribe to the topic \(topic.arn).\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            timestamp: Self.timestamp(wallClock.nowMillis()), token: subscription.token, subscribeURL: subscribeURL)
        try await store.enqueue([try delivery(fields, to: subscription, raw: nil)])
        return subscription
    }

    /// Publishes to every confirmed subscription of the topic; returns the message id.
    @discardableResult
    package func publish(topic: Topic, message: String, subject: String?, traceHeader: String? = nil) async throws -> String {
        let messageId = UUID().uuidString.lowercased()
        let now = Self.timestamp(wallClock.nowMillis())
        var deliveries: [Delivery] = []
        for s in try await store.subscriptions(topicArn: topic.arn) where s.confirmed {
            let fields = SNSMessages.Fields(
                type: "Notification", messageId: messageId, topicArn: topic.arn, subject: subject, message: message, timestamp: now,
                unsubscribeURL: baseURL() + Self.unsubscribePath + "?Action=Unsubscribe&SubscriptionArn=\(Self.escaped(s.arn))")
            var d = try delivery(fields, to: s, raw: s.rawMessageDelivery ? message : nil)
            d.traceHeader = traceHeader
            deliveries.append(d)
        }
        try await store.enqueue(deliveries)
        return messageId
    }

    /// A signed delivery of `fields` (or, for RawMessageDelivery, the message alone, unsigned as SNS sends it).
    private func delivery(_ fields: SNSMessages.Fields, to s: Subscription, raw: String?) throws -> Delivery {
        let body = try raw ?? SNSMessages.body(fields, signature: signer.sign(SNSSigning.stringToSign(fields.signed)),
                                               signingCertURL: baseURL() + Self.certificatePath)
        return Delivery(subscriptionArn: s.arn, topicArn: s.topicArn, endpoint: s.endpoint, messageType: fields.type,
                        messageId: fields.messageId, body: body, nextAttempt: wallClock.nowMillis())
    }

    /// Runs the actions of alarm state changes: the alarm message published to each action's topic, and an Action
    /// history item saying whether it was published.
    package func alarmTransitions(_ transitions: [AlarmEngine.Transition]) async {
        for t in transitions {
            for action in t.actions {
                var summary = "Successfully executed action \(action)"
                do {
                    guard let topic = try await store.topic(arn: action) else {
                        throw SNSError(.notFound, "Topic does not exist")
                    }
                    let message = SNSMessages.alarmMessage(t.alarm, old: t.from, new: t.to, reason: t.reason, changedAt: t.at,
                                                           configurationUpdated: t.configurationUpdated, region: region, account: account)
                    try await publish(topic: topic, message: message, subject: SNSMessages.alarmSubject(t.alarm.name, state: t.to, region: region))
                } catch {
                    summary = "Failed to execute action \(action). Received error: \"\((error as? SNSError)?.message ?? "\(error)")\""
                    logger.warning("alarm action failed", metadata: ["alarm.name": "\(t.alarm.name)", "action": "\(action)"])
                }
                try? await alarms?.append(AlarmHistoryItem(alarmName: t.alarm.name, timestamp: wallClock.nowMillis(), kind: .action,
                                                           summary: summary, data: "{\"actionState\":\"\(summary.hasPrefix("Success") ? "Succeeded" : "Failed")\"}"))
            }
        }
    }

    static func token() -> String {
        (0..<4).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }.joined()
    }

    /// SNS timestamps: `2012-05-02T00:54:06.655Z`.
    static func timestamp(_ millis: Int64) -> String { TimeExpression.format(millis) }

    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
