import Logging
import ServiceLifecycle
import SkylensCore

/// Writes metric datums through a ``GroupCommitQueue``: the datums of every request pending while a write runs are
/// merged per bucket and written in one transaction; a request is answered once its datums are committed.
package final class MetricWriter: Service {
    private let queue: GroupCommitQueue<[MetricDatum], Void>

    package init(store: any MetricStore, logger: Logger) {
        queue = GroupCommitQueue(name: "metrics", logger: logger) { batches in
            try await store.put(batches.flatMap { $0 })
            return batches.map { _ in .success(()) }
        }
    }

    /// Queues `datums` for the next commit and returns once they are stored.
    package func put(_ datums: [MetricDatum]) async throws {
        guard !datums.isEmpty else { return }
        do {
            try await queue.submit(datums)
        } catch is GroupCommitQueue<[MetricDatum], Void>.ShuttingDown {
            throw LogsError(.serviceUnavailable, "The collector is shutting down.")
        }
    }

    package func run() async throws { try await queue.run() }
}

/// The metric store as the APIs see it: reads go to the store, writes through the group-commit writer; after a
/// write is committed, `onPut` hears which datums were stored (the alarm engine re-evaluates the alarms reading them).
package struct CommittingMetricStore: MetricStore {
    let store: any MetricStore
    let writer: MetricWriter
    let onPut: @Sendable ([MetricDatum]) async -> Void

    package init(store: any MetricStore, writer: MetricWriter, onPut: @escaping @Sendable ([MetricDatum]) async -> Void = { _ in }) {
        self.store = store
        self.writer = writer
        self.onPut = onPut
    }

    package func put(_ datums: [MetricDatum]) async throws {
        try await writer.put(datums)
        await onPut(datums)
    }

    package func flush() async throws { try await store.flush() }

    package func aggregates(_ query: MetricQuery) async throws -> MetricPoints { try await store.aggregates(query) }

    package func aggregates(_ queries: [MetricQuery]) async throws -> [MetricPoints] { try await store.aggregates(queries) }

    package func sweepExpired(now: Int64) async throws -> Int { try await store.sweepExpired(now: now) }

    package func listSeries(namespace: String?, name: String?, dimensions: [(name: String, value: String?)],
                            activeSince: Int64?) async throws -> [MetricSeries] {
        try await store.listSeries(namespace: namespace, name: name, dimensions: dimensions, activeSince: activeSince)
    }
}
