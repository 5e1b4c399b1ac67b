/// Documents of traces whose root segment has not arrived yet, held back for a while so that a trace is written
/// once, with its root, instead of once per batch its documents came in.
///
/// Services send a trace's documents as each (sub)segment ends: the deepest call's first, the entry point's segment
/// (the root: a completed top-level segment with no parent) last, when the request is done. The store re-assembles,
/// re-summarises and rewrites a trace in every commit that brings it a document, so documents that arrive before
/// their root wait here until it arrives, or until they have waited ``limit`` (a trace whose root never comes here,
/// such as one continued from an uninstrumented caller, is then written anyway), or until more than ``capacity``
/// wait. The design of OpenTelemetry's group-by-trace processor, released by the root instead of by time alone.
///
/// A root stored another way (PutTraceSegments) releases its trace's documents too, when the caller passes its key.
///
/// Pure: the caller passes the time, and writes what each call releases.
package struct RootlessHold: Sendable {
    /// How long a document waits for its trace's root at most.
    package let limit: Duration
    /// How many documents wait at most: beyond it the oldest are released.
    package let capacity: Int
    /// The documents waiting, oldest first, each with the time it arrived.
    private var held: [(since: ContinuousClock.Instant, document: SegmentDocument)] = []

    package init(limit: Duration, capacity: Int) {
        self.limit = limit
        self.capacity = capacity
    }

    /// How many documents are waiting.
    package var count: Int { held.count }

    /// Whether a document completes its trace: a completed top-level segment with no parent.
    package static func isRoot(_ d: SegmentDocument) -> Bool {
        !d.segment.isSubsegment && d.segment.parentKey == nil && !d.segment.inProgress
    }

    /// Takes the documents that just arrived; returns those to write now (each trace's in arrival order): every
    /// document, held or new, of a trace whose root is among them or in `rootsStored` (the traces whose roots were
    /// stored another way since the last call), those that have waited `limit`, and the oldest beyond `capacity`.
    /// The rest wait.
    package mutating func release(adding arrived: [SegmentDocument], rootsStored: Set<TraceKey> = [],
                                  now: ContinuousClock.Instant) -> [SegmentDocument] {
        // (A root is never held: it goes with the rest of its trace's documents.)
        // (Traces are told apart by their keys; a document without one goes at once, for the store to refuse.)
        var rooted = rootsStored
        rooted.reserveCapacity(rootsStored.count + arrived.count / 2)
        for d in arrived where Self.isRoot(d) { if let key = d.traceKey { rooted.insert(key) } }
        func goes(_ d: SegmentDocument) -> Bool { d.traceKey.map(rooted.contains) ?? true }
        // Most batches complete every trace they hold a document of: then all of them go, with nothing waiting.
        if held.isEmpty, arrived.allSatisfy(goes) { return arrived }
        var out: [SegmentDocument] = []
        out.reserveCapacity(held.count + arrived.count)
        var waiting: [(since: ContinuousClock.Instant, document: SegmentDocument)] = []
        let due = now - limit
        for h in held {
            if h.since <= due || goes(h.document) { out.append(h.document) } else { waiting.append(h) }
        }
        for d in arrived {
            if goes(d) { out.append(d) } else { waiting.append((now, d)) }
        }
        if waiting.count > capacity {
            let over = waiting.count - capacity
            out.append(contentsOf: waiting[..<over].map(\.document))
            waiting.removeFirst(over)
        }
        held = waiting
        return out
    }

    /// Every document waiting, in arrival order (at shutdown).
    package mutating func releaseAll() -> [SegmentDocument] {
        defer { held = [] }
        return held.map(\.document)
    }
}
