import Foundation
import SkylensCore
import SkylensStorage

/// Fans committed events out to live-tail subscribers, by log group.
///
/// The writer publishes each committed batch; subscribers receive it through an `AsyncStream` whose buffer holds
/// the newest 64 batches (a reader that falls further behind loses the oldest, and is told by a gap in `seq`).
package final class LiveTail: Sendable {
    package struct Batch: Sendable {
        package var group: String
        package var events: [StoredEvent]
    }

    private struct State {
        var next = 0
        var subscribers: [Int: (group: String, continuation: AsyncStream<Batch>.Continuation)] = [:]
    }

    private let state = LockedState(State())

    package init() {}

    /// Whether anyone listens to `group` (so the writer can skip building events no one reads).
    package func hasSubscribers(for group: String) -> Bool {
        state.withLock { $0.subscribers.values.contains { $0.group == group } }
    }

    /// Subscribes to the events committed to `group` from now on.
    package func subscribe(group: String) -> AsyncStream<Batch> {
        let (stream, continuation) = AsyncStream<Batch>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = state.withLock { s -> Int in
            s.next += 1
            s.subscribers[s.next] = (group, continuation)
            return s.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    package func publish(_ batch: Batch) {
        let targets = state.withLock { s in s.subscribers.values.filter { $0.group == batch.group }.map(\.continuation) }
        for continuation in targets { continuation.yield(batch) }
    }

    /// Ends every subscription (at shutdown).
    package func finishAll() {
        let all = state.withLock { s -> [AsyncStream<Batch>.Continuation] in
            defer { s.subscribers.removeAll() }
            return s.subscribers.values.map(\.continuation)
        }
        for continuation in all { continuation.finish() }
    }
}
