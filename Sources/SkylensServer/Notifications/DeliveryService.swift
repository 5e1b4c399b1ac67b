import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SkylensCore

/// Sends the outbox: every `interval` it takes the deliveries that are due, posts them as SNS does (the
/// `x-amz-sns-*` headers, `Content-Type: text/plain; charset=UTF-8`), and records the outcome: delivered ones leave
/// the outbox; retryable failures (5xx, 429, timeouts, refused connections) wait for the next retry of the
/// subscription's delivery policy; permanent failures (other 4xx) and exhausted retries go to the dead-letter queue.
/// Nothing is sent that was not written first, so a restart resumes where the last run stopped.
package struct DeliveryService<C: Clock>: Service where C.Duration == Duration {
    let store: any NotificationStore
    let clock: C
    let wallClock: any WallClock
    let interval: Duration
    let timeout: TimeAmount
    let logger: Logger

    package init(store: any NotificationStore, clock: C, wallClock: any WallClock, interval: Duration, timeout: TimeAmount = .seconds(15),
                 logger: Logger) {
        self.store = store
        self.clock = clock
        self.wallClock = wallClock
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
    }

    package func run() async throws {
        await runEvery(interval, on: clock, startingNow: true) { await deliverDue() }
    }

    /// One round: every delivery due now, attempted concurrently.
    package func deliverDue() async {
        do {
            let due = try await store.dueDeliveries(now: wallClock.nowMillis(), limit: 64)
            await withTaskGroup(of: Void.self) { group in
                for delivery in due { group.addTask { await self.attempt(delivery) } }
            }
        } catch {
            logger.error("delivery round failed", metadata: ["error": "\(error)"])
        }
    }

    private func attempt(_ d: Delivery) async {
        let result = await post(d)
        let attempts = d.attempts + 1
        do {
            switch result {
            case .delivered:
                try await store.delivered(id: d.id)
            case .permanent(let why):
                logger.warning("delivery refused; moved to the dead-letter queue",
                               metadata: ["subscription": "\(d.subscriptionArn)", "error": "\(why)"])
                try await store.kill(id: d.id, attempts: attempts, error: why)
            case .retryable(let why):
                // The policy of the subscription as it is now (gone: SNS's defaults, as for confirmations).
                let policy = try await store.subscription(arn: d.subscriptionArn)?.effectiveDeliveryPolicy ?? DeliveryPolicy()
                if let delay = policy.delay(beforeRetry: attempts) {
                    try await store.retry(id: d.id, attempts: attempts, at: wallClock.nowMillis() + Int64(delay) * 1000, error: why)
                } else {
                    logger.warning("delivery retries exhausted; moved to the dead-letter queue",
                                   metadata: ["subscription": "\(d.subscriptionArn)", "error": "\(why)"])
                    try await store.kill(id: d.id, attempts: attempts, error: why)
                }
            }
        } catch {
            logger.error("recording a delivery failed", metadata: ["error": "\(error)"])
        }
    }

    private func post(_ d: Delivery) async -> DeliveryResult {
        var request = HTTPClientRequest(url: d.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/plain; charset=UTF-8")
        request.headers.add(name: "User-Agent", value: "Amazon Simple Notification Service Agent")
        request.headers.add(name: "x-amz-sns-message-type", value: d.messageType)
        request.headers.add(name: "x-amz-sns-message-id", value: d.messageId)
        request.headers.add(name: "x-amz-sns-topic-arn", value: d.topicArn)
        if d.messageType == "Notification" { request.headers.add(name: "x-amz-sns-subscription-arn", value: d.subscriptionArn) }
        if let trace = d.traceHeader { request.headers.add(name: "X-Amzn-Trace-Id", value: trace) }
        request.body = .bytes(ByteBuffer(string: d.body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 1 << 20)
            return .http(status: Int(response.status.code))
        } catch {
            // Refused connections, timeouts and broken connections are worth another try.
            return .retryable("\(error)")
        }
    }
}
