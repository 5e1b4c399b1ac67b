import Logging
import ServiceLifecycle
import SkylensCore
import SkylensStorage

/// Writes validated segment documents through a ``GroupCommitQueue``: documents from every request (and every
/// datagram batch) pending while a write runs are stored together; each caller resumes once its documents are
/// committed, traces re-assembled and the service map updated.
package final class TraceWriter: Service {
    private let queue: GroupCommitQueue<[SegmentDocument], Void>
    /// Documents committed since start (reported by `/_skylens/health`).
    package let stored = LockedState(0)

    package init(store: any TraceStore, wallClock: any WallClock, logger: Logger) {
        let stored = self.stored
        queue = GroupCommitQueue(name: "traces", logger: logger) { batches in
            // Usually one batch: taken as it is (joining copied every document).
            let documents = batches.count == 1 ? batches[0] : batches.flatMap { $0 }
            try await store.append(documents, now: wallClock.nowMillis())
            stored.withLock { $0 += documents.count }
            return batches.map { _ in .success(()) }
        }
    }

    package func put(_ documents: [SegmentDocument]) async throws {
        guard !documents.isEmpty else { return }
        do {
            try await queue.submit(documents)
        } catch is GroupCommitQueue<[SegmentDocument], Void>.ShuttingDown {
            throw XRayServiceUnavailable()
        }
    }

    package func run() async throws { try await queue.run() }
}

struct XRayServiceUnavailable: Error {}
