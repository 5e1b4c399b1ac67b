/// An SNS-style topic.
package struct Topic: Sendable, Equatable {
    package var arn: String
    package var name: String
    package var displayName: String

    package init(arn: String, name: String, displayName: String = "") {
        self.arn = arn
        self.name = name
        self.displayName = displayName
    }
}

/// A subscription of an endpoint to a topic.
package struct Subscription: Sendable, Equatable {
    package var arn: String
    package var topicArn: String
    /// `http` or `https`.
    package var protocolName: String
    package var endpoint: String
    /// Pending until the endpoint confirms (by visiting SubscribeURL, or ConfirmSubscription with the token).
    package var confirmed: Bool
    package var token: String
    package var rawMessageDelivery: Bool
    /// The DeliveryPolicy attribute as given (JSON), nil for SNS's defaults.
    package var deliveryPolicy: String?

    package init(arn: String, topicArn: String, protocolName: String, endpoint: String, confirmed: Bool, token: String,
                 rawMessageDelivery: Bool = false, deliveryPolicy: String? = nil) {
        self.arn = arn
        self.topicArn = topicArn
        self.protocolName = protocolName
        self.endpoint = endpoint
        self.confirmed = confirmed
        self.token = token
        self.rawMessageDelivery = rawMessageDelivery
        self.deliveryPolicy = deliveryPolicy
    }

    /// The policy deliveries follow: the DeliveryPolicy attribute, or SNS's defaults (also for an attribute that no
    /// longer reads, which validation keeps from being stored).
    package var effectiveDeliveryPolicy: DeliveryPolicy {
        deliveryPolicy.flatMap { try? DeliveryPolicy(json: $0) } ?? DeliveryPolicy()
    }
}

/// One HTTP delivery in the outbox: written before it is attempted, retried per the subscription's policy, and
/// kept in the dead-letter queue when retries are exhausted or the endpoint refuses it for good.
package struct Delivery: Sendable, Equatable {
    package var id: Int64
    package var subscriptionArn: String
    package var topicArn: String
    package var endpoint: String
    /// `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation` (the x-amz-sns-message-type header).
    package var messageType: String
    package var messageId: String
    package var body: String
    /// Attempts made so far.
    package var attempts: Int
    /// When the next attempt is due (epoch ms).
    package var nextAttempt: Int64
    package var lastError: String?
    /// In the dead-letter queue.
    package var dead: Bool
    /// The publisher's `X-Amzn-Trace-Id`, sent on with the delivery so the receiver's trace continues the publisher's.
    package var traceHeader: String?

    package init(id: Int64 = 0, subscriptionArn: String, topicArn: String, endpoint: String, messageType: String, messageId: String,
                 body: String, attempts: Int = 0, nextAttempt: Int64, lastError: String? = nil, dead: Bool = false,
                 traceHeader: String? = nil) {
        self.traceHeader = traceHeader
        self.id = id
        self.subscriptionArn = subscriptionArn
        self.topicArn = topicArn
        self.endpoint = endpoint
        self.messageType = messageType
        self.messageId = messageId
        self.body = body
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.lastError = lastError
        self.dead = dead
    }
}

/// The port through which topics, subscriptions and the delivery outbox are kept. `SkylensStorage` implements it.
package protocol NotificationStore: Sendable {
    /// Creates the topic, or returns the existing one of that name (CreateTopic is idempotent).
    func createTopic(_ topic: Topic) async throws -> Topic
    /// Removes the topic, its subscriptions and its pending deliveries; false when there was none.
    func deleteTopic(arn: String) async throws -> Bool
    func topics() async throws -> [Topic]
    func topic(arn: String) async throws -> Topic?
    func addSubscription(_ subscription: Subscription) async throws
    func subscriptions(topicArn: String?) async throws -> [Subscription]
    func subscription(arn: String) async throws -> Subscription?
    /// Confirms the pending subscription holding `token` on `topicArn`; nil when none does.
    func confirm(topicArn: String, token: String) async throws -> Subscription?
    func removeSubscription(arn: String) async throws -> Bool
    func updateSubscription(_ subscription: Subscription) async throws
    /// Writes deliveries to the outbox (durable when this returns).
    func enqueue(_ deliveries: [Delivery]) async throws
    /// Pending deliveries due at `now`, oldest first.
    func dueDeliveries(now: Int64, limit: Int) async throws -> [Delivery]
    /// The earliest pending attempt time, if any delivery is pending.
    func nextDue() async throws -> Int64?
    /// Deliveries waiting in the outbox, and how many of them have failed at least once.
    func outboxCounts() async throws -> (pending: Int, retrying: Int)
    func delivered(id: Int64) async throws
    /// Records a failed attempt and when to try again.
    func retry(id: Int64, attempts: Int, at: Int64, error: String) async throws
    /// Moves a delivery to the dead-letter queue.
    func kill(id: Int64, attempts: Int, error: String) async throws
    func deadLetters() async throws -> [Delivery]
    /// Puts dead letters back in the outbox, due at `now`; returns how many (all when `ids` is nil).
    func replay(ids: [Int64]?, now: Int64) async throws -> Int
}
