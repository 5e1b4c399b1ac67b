import Logging
import ServiceLifecycle
import SkylensStorage

/// A group-commit queue: items submitted while a commit runs are committed together in the next one, and each
/// submitter resumes with its own result once the commit holding its item is done.
///
/// ```
/// submit ─┐                              ┌─► resume each submitter with its result
/// submit ─┼─► pending ─► run loop ──────►│
/// submit ─┘     ▲   doorbell   commit(all pending) (one transaction)
/// ```
/// On graceful shutdown the queue stops accepting items and commits whatever is pending before `run` returns.
package final class GroupCommitQueue<Item: Sendable, Receipt: Sendable>: Service {
    private typealias Waiter = CheckedContinuation<Receipt, any Error>

    private struct State {
        var pending: [(Item, Waiter)] = []
        var closed = false
    }

    /// Commits a batch; returns one result per item, in order.
    package typealias Commit = @Sendable ([Item]) async throws -> [Result<Receipt, any Error>]

    private let name: String
    private let commit: Commit
    private let logger: Logger
    private let state = LockedState(State())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    package init(name: String, logger: Logger, commit: @escaping Commit) {
        self.name = name
        self.logger = logger
        self.commit = commit
        (doorbell, ring) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `item` for the next commit and returns its result once committed.
    package func submit(_ item: Item) async throws -> Receipt {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let accepted = state.withLock { s -> Bool in
                guard !s.closed else { return false }
                s.pending.append((item, waiter))
                return true
            }
            if accepted {
                ring.yield()
            } else {
                waiter.resume(throwing: ShuttingDown())
            }
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in doorbell { await drain() }
        } onGracefulShutdown: { [ring] in
            ring.finish()
        }
        state.withLock { $0.closed = true }
        await drain()
    }

    /// Commits everything pending, repeatedly, until nothing is left.
    private func drain() async {
        while true {
            let batch = state.withLock { s -> [(Item, Waiter)] in
                defer { s.pending.removeAll(keepingCapacity: true) }
                return s.pending
            }
            if batch.isEmpty { return }
            do {
                let results = try await commit(batch.map(\.0))
                for ((_, waiter), result) in zip(batch, results) { waiter.resume(with: result) }
            } catch {
                logger.error("group commit failed", metadata: ["queue": "\(name)", "error": "\(error)", "items": "\(batch.count)"])
                for (_, waiter) in batch { waiter.resume(throwing: error) }
            }
        }
    }

    /// A submission after shutdown began.
    package struct ShuttingDown: Error, CustomStringConvertible {
        package var description: String { "The collector is shutting down." }
    }
}
