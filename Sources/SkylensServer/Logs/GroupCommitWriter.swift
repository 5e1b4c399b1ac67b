import Logging
import ServiceLifecycle
import SkylensCore

/// Commits `PutLogEvents` batches through a ``GroupCommitQueue``: requests that arrive while a commit is running
/// share the next one, and a request is answered only after the transaction holding its events has committed.
/// Committed events then go to live-tail subscribers.
package final class GroupCommitWriter: Service {
    private let queue: GroupCommitQueue<AppendRequest, AppendReceipt>

    package init(store: any LogStore, liveTail: LiveTail, logger: Logger) {
        queue = GroupCommitQueue(name: "logs", logger: logger) { requests in
            let results = try await store.append(requests)
            for (request, result) in zip(requests, results) {
                if case .success(let receipt) = result { Self.publish(request, receipt, to: liveTail) }
            }
            return results.map { $0.mapError { $0 as any Error } }
        }
    }

    /// Queues `request` for the next group commit and returns once it is durable.
    package func submit(_ request: AppendRequest) async throws -> AppendReceipt {
        do {
            return try await queue.submit(request)
        } catch is GroupCommitQueue<AppendRequest, AppendReceipt>.ShuttingDown {
            throw LogsError(.serviceUnavailable, "The collector is shutting down.")
        }
    }

    package func run() async throws { try await queue.run() }

    private static func publish(_ request: AppendRequest, _ receipt: AppendReceipt, to liveTail: LiveTail) {
        guard liveTail.hasSubscribers(for: request.group) else { return }
        let events = request.events
        let stored = (0..<events.count).map { i in
            StoredEvent(stream: request.stream, streamID: receipt.streamID, seq: receipt.firstSeq + Int64(i),
                        timestamp: events.timestamps[i], ingestionTime: request.ingestionTime, message: events.message(i))
        }
        liveTail.publish(.init(group: request.group, events: stored))
    }
}
