import SkylensCore
import SkylensWire

/// The SNS API (query protocol, `Version=2010-03-31`): topics, HTTP/S subscriptions with confirmation, publishing,
/// and subscription attributes (RawMessageDelivery, DeliveryPolicy).
package struct SNSAPI: Sendable {
    package static let apiVersion = "2010-03-31"
    package static let xmlNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"
    /// Output members that are maps (written as `<entry>` lists).
    package static let mapMembers: Set<String> = ["Attributes"]

    let notifier: Notifier
    var store: any NotificationStore { notifier.store }

    package init(notifier: Notifier) { self.notifier = notifier }

    /// `traceHeader`: the request's `X-Amzn-Trace-Id`, which Publish passes on to its deliveries.
    package func handle(action: String, parameters p: WireValue, traceHeader: String? = nil) async throws(SNSError) -> WireValue {
        do {
            switch action {
            case "CreateTopic": return try await createTopic(p)
            case "DeleteTopic":
                _ = try await store.deleteTopic(arn: try required(p, "TopicArn"))
                return .map([])
            case "ListTopics":
                return .map([("Topics", .array(try await store.topics().map { .map([("TopicArn", .string($0.arn))]) }))])
            case "GetTopicAttributes": return try await topicAttributes(p)
            case "Subscribe": return try await subscribe(p)
            case "ConfirmSubscription":
                let topic = try required(p, "TopicArn")
                guard let s = try await store.confirm(topicArn: topic, token: try required(p, "Token")) else {
                    throw SNSError.invalid("Token")
                }
                return .map([("SubscriptionArn", .string(s.arn))])
            case "Unsubscribe":
                guard try await store.removeSubscription(arn: try required(p, "SubscriptionArn")) else {
                    throw SNSError(.notFound, "Subscription does not exist")
                }
                return .map([])
            case "ListSubscriptions":
                return .map([("Subscriptions", .array(try await store.subscriptions(topicArn: nil).map(subscriptionMember)))])
            case "ListSubscriptionsByTopic":
                let topic = try await existingTopic(p)
                return .map([("Subscriptions", .array(try await store.subscriptions(topicArn: topic.arn).map(subscriptionMember)))])
            case "Publish": return try await publish(p, traceHeader: traceHeader)
            case "GetSubscriptionAttributes": return try await subscriptionAttributes(p)
            case "SetSubscriptionAttributes": return try await setSubscriptionAttribute(p)
            default:
                throw SNSError(.invalidAction, "The action \(action) is not valid for this endpoint.")
            }
        } catch let error as SNSError {
            throw error
        } catch {
            throw SNSError(.internalError, "\(error)")
        }
    }

    private func createTopic(_ p: WireValue) async throws -> WireValue {
        let name = try required(p, "Name")
        guard (1...256).contains(name.utf8.count),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else {
            throw SNSError.invalid("Topic Name (1 to 256 letters, digits, hyphens and underscores; FIFO topics are not supported)")
        }
        let displayName = p["Attributes"]?["DisplayName"]?.string ?? ""
        let topic = try await store.createTopic(Topic(arn: notifier.topicArn(name), name: name, displayName: displayName))
        return .map([("TopicArn", .string(topic.arn))])
    }

    private func topicAttributes(_ p: WireValue) async throws -> WireValue {
        let topic = try await existingTopic(p)
        let subs = try await store.subscriptions(topicArn: topic.arn)
        return .map([("Attributes", .map([
            ("TopicArn", .string(topic.arn)), ("Owner", .string(notifier.account)), ("DisplayName", .string(topic.displayName)),
            ("SubscriptionsConfirmed", .string("\(subs.filter(\.confirmed).count)")),
            ("SubscriptionsPending", .string("\(subs.filter { !$0.confirmed }.count)")), ("SubscriptionsDeleted", .string("0")),
        ]))])
    }

    private func subscribe(_ p: WireValue) async throws -> WireValue {
        let topic = try await existingTopic(p)
        let protocolName = try required(p, "Protocol")
        guard protocolName == "http" || protocolName == "https" else {
            throw SNSError.invalid("Protocol \(protocolName): Skylens delivers to http and https endpoints (local functions come with the functions capability)")
        }
        let endpoint = try required(p, "Endpoint")
        guard endpoint.hasPrefix(protocolName + "://") else { throw SNSError.invalid("Endpoint must be a \(protocolName):// URL") }
        let attributes = p["Attributes"]
        let raw = attributes?["RawMessageDelivery"]?.string == "true"
        let policy = attributes?["DeliveryPolicy"]?.string
        if let policy { try validatePolicy(policy) }
        let s = try await notifier.subscribe(topic: topic, protocolName: protocolName, endpoint: endpoint, rawMessageDelivery: raw,
                                             deliveryPolicy: policy)
        return .map([("SubscriptionArn", .string(p["ReturnSubscriptionArn"]?.bool == true ? s.arn : "pending confirmation"))])
    }

    private func publish(_ p: WireValue, traceHeader: String?) async throws -> WireValue {
        guard p["TargetArn"] == nil, p["PhoneNumber"] == nil else { throw SNSError.invalid("Skylens publishes to topics (TopicArn) only") }
        let topic = try await existingTopic(p)
        let message = try required(p, "Message")
        guard !message.isEmpty, message.utf8.count <= 262_144 else { throw SNSError.invalid("Message must be 1 byte to 256 KiB") }
        let subject = p["Subject"]?.string
        if let subject, subject.isEmpty || subject.count > 100 || subject.contains("\n") {
            throw SNSError.invalid("Subject must be 1 to 100 characters on one line")
        }
        let id = try await notifier.publish(topic: topic, message: message, subject: subject, traceHeader: traceHeader)
        return .map([("MessageId", .string(id))])
    }

    private func subscriptionAttributes(_ p: WireValue) async throws -> WireValue {
        let s = try await existingSubscription(p)
        var attributes: [(String, WireValue)] = [
            ("SubscriptionArn", .string(s.arn)), ("TopicArn", .string(s.topicArn)), ("Protocol", .string(s.protocolName)),
            ("Endpoint", .string(s.endpoint)), ("Owner", .string(notifier.account)),
            ("PendingConfirmation", .string(s.confirmed ? "false" : "true")), ("ConfirmationWasAuthenticated", .string("false")),
            ("RawMessageDelivery", .string(s.rawMessageDelivery ? "true" : "false")),
        ]
        if let policy = s.deliveryPolicy { attributes.append(("DeliveryPolicy", .string(policy))) }
        attributes.append(("EffectiveDeliveryPolicy", .string(s.effectiveDeliveryPolicy.json)))
        return .map([("Attributes", .map(attributes))])
    }

    private func setSubscriptionAttribute(_ p: WireValue) async throws -> WireValue {
        var s = try await existingSubscription(p)
        let name = try required(p, "AttributeName")
        let value = p["AttributeValue"]?.string ?? ""
        switch name {
        case "RawMessageDelivery":
            guard value == "true" || value == "false" else { throw SNSError.invalid("RawMessageDelivery must be true or false") }
            s.rawMessageDelivery = value == "true"
        case "DeliveryPolicy":
            try validatePolicy(value)
            s.deliveryPolicy = value
        default:
            throw SNSError.invalid("AttributeName \(name) (Skylens supports RawMessageDelivery and DeliveryPolicy)")
        }
        try await store.updateSubscription(s)
        return .map([])
    }

    private func validatePolicy(_ json: String) throws(SNSError) {
        do {
            _ = try DeliveryPolicy(json: json)
        } catch {
            throw SNSError.invalid("DeliveryPolicy: \(error.message)")
        }
    }

    private func subscriptionMember(_ s: Subscription) -> WireValue {
        .map([("SubscriptionArn", .string(s.confirmed ? s.arn : "PendingConfirmation")), ("Owner", .string(notifier.account)),
              ("Protocol", .string(s.protocolName)), ("Endpoint", .string(s.endpoint)), ("TopicArn", .string(s.topicArn))])
    }

    private func existingTopic(_ p: WireValue) async throws -> Topic {
        guard let topic = try await store.topic(arn: try required(p, "TopicArn")) else { throw SNSError(.notFound, "Topic does not exist") }
        return topic
    }

    private func existingSubscription(_ p: WireValue) async throws -> Subscription {
        guard let s = try await store.subscription(arn: try required(p, "SubscriptionArn")) else {
            throw SNSError(.notFound, "Subscription does not exist")
        }
        return s
    }

    private func required(_ p: WireValue, _ name: String) throws(SNSError) -> String {
        guard let v = p[name]?.string else { throw SNSError.invalid("\(name) is required") }
        return v
    }
}
