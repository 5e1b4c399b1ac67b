import Logging
import ServiceLifecycle
import SkylensCore

/// Commits `PutLogEvents` batches: requests that arrive while a commit is running share the next one.
///
/// ```
/// request ─┐                         ┌─► resume request (after COMMIT)
/// request ─┼─► pending ─► run loop ──┼─► store.append(all pending)  (one transaction, one fsync)
/// request ─┘     ▲   doorbell         └─► live tail fan-out
/// ```
/// A request is answered only after the transaction holding its events has committed.
package final class GroupCommitWriter: Service {
    private typealias Waiter = CheckedContinuation<AppendReceipt, any Error>

    private struct State {
        var pending: [(AppendRequest, Waiter)] = []
        var closed = false
    }

    private let store: any LogStore
    private let liveTail: LiveTail
    private let logger: Logger
    private let state = LockedState(State())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    package init(store: any LogStore, liveTail: LiveTail, logger: Logger) {
        self.store = store
        self.liveTail = liveTail
        self.logger = logger
        (doorbell, ring) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `request` for the next group commit and returns once it is durable.
    package func submit(_ request: AppendRequest) async throws -> AppendReceipt {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let accepted = state.withLock { s -> Bool in
                guard !s.closed else { return false }
                s.pending.append((request, waiter))
                return true
            }
            if accepted {
                ring.yield()
            } else {
                waiter.resume(throwing: LogsError(.serviceUnavailable, "The collector is shutting down."))
            }
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in doorbell {
                await drain()
            }
        } onGracefulShutdown: { [ring] in
            ring.finish()
        }
        state.withLock { $0.closed = true }
        await drain()
    }

    /// Commits everything pending, repeatedly, until nothing is left.
    private func drain() async {
        while true {
            let batch = state.withLock { s -> [(AppendRequest, Waiter)] in
                defer { s.pending.removeAll(keepingCapacity: true) }
                return s.pending
            }
            if batch.isEmpty { return }
            do {
                let results = try await store.append(batch.map(\.0))
                for ((request, waiter), result) in zip(batch, results) {
                    switch result {
                    case .success(let receipt):
                        waiter.resume(returning: receipt)
                        publish(request, receipt)
                    case .failure(let error):
                        waiter.resume(throwing: error)
                    }
                }
            } catch {
                logger.error("group commit failed", metadata: ["error": "\(error)", "batches": "\(batch.count)"])
                for (_, waiter) in batch { waiter.resume(throwing: error) }
            }
        }
    }

    private func publish(_ request: AppendRequest, _ receipt: AppendReceipt) {
        guard liveTail.hasSubscribers(for: request.group) else { return }
        let events = request.events
        let stored = (0..<events.count).map { i in
            StoredEvent(stream: request.stream, streamID: receipt.streamID, seq: receipt.firstSeq + Int64(i),
                        timestamp: events.timestamps[i], ingestionTime: request.ingestionTime, message: events.message(i))
        }
        liveTail.publish(.init(group: request.group, events: stored))
    }
}
