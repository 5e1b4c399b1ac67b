import Logging
import ServiceLifecycle
import SkylensCore

/// Writes metric datums with group commits: the datums of every request that arrives while a write is running are
/// merged (in memory, per bucket) and written together in the next transaction. A request is answered once its
/// datums are committed.
package final class MetricWriter: Service {
    private typealias Waiter = CheckedContinuation<Void, any Error>

    private struct State {
        var pending: [([MetricDatum], Waiter)] = []
        var closed = false
    }

    private let store: any MetricStore
    private let logger: Logger
    private let state = LockedState(State())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    package init(store: any MetricStore, logger: Logger) {
        self.store = store
        self.logger = logger
        (doorbell, ring) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `datums` for the next commit and returns once they are stored.
    package func put(_ datums: [MetricDatum]) async throws {
        guard !datums.isEmpty else { return }
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let accepted = state.withLock { s -> Bool in
                guard !s.closed else { return false }
                s.pending.append((datums, waiter))
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
            for await _ in doorbell { await drain() }
        } onGracefulShutdown: { [ring] in
            ring.finish()
        }
        state.withLock { $0.closed = true }
        await drain()
    }

    private func drain() async {
        while true {
            let batch = state.withLock { s -> [([MetricDatum], Waiter)] in
                defer { s.pending.removeAll(keepingCapacity: true) }
                return s.pending
            }
            if batch.isEmpty { return }
            do {
                try await store.put(batch.flatMap(\.0))
                for (_, waiter) in batch { waiter.resume() }
            } catch {
                logger.error("metric commit failed", metadata: ["error": "\(error)", "requests": "\(batch.count)"])
                for (_, waiter) in batch { waiter.resume(throwing: error) }
            }
        }
    }
}

/// The metric store as the APIs see it: reads go to the store, writes through the group-commit writer.
package struct CommittingMetricStore: MetricStore {
    let store: any MetricStore
    let writer: MetricWriter

    package init(store: any MetricStore, writer: MetricWriter) {
        self.store = store
        self.writer = writer
    }

    package func put(_ datums: [MetricDatum]) async throws { try await writer.put(datums) }

    package func aggregates(_ query: MetricQuery) async throws -> MetricPoints { try await store.aggregates(query) }

    package func listSeries(namespace: String?, name: String?, dimensions: [(name: String, value: String?)],
                            activeSince: Int64?) async throws -> [MetricSeries] {
        try await store.listSeries(namespace: namespace, name: name, dimensions: dimensions, activeSince: activeSince)
    }
}
