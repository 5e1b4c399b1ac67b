/// One trace put together from the documents stored for it: segments (real and inferred) with their subsegment
/// trees. Built by ``TraceAssembler`` through a list of adjusters, one per concern (the design of Jaeger's query
/// adjusters): each takes the trace as the previous one left it.
package struct AssembledTrace: Sendable, Equatable {
    package var id: String
    /// Top-level segments, real and inferred, each with every subsegment that belongs to it merged in.
    package var segments: [Segment]
    /// Independent subsegments whose parent has not arrived (the trace is partial while there are any).
    package var orphans: [Segment] = []
    /// Seconds each segment (by id) was moved to correct clock skew between hosts.
    package var skewCorrections: [String: Double] = [:]
    /// Segments joined to this trace by a span link (async hops): segment id → the linked (sub)segment id.
    package var asyncParents: [String: String] = [:]

    package init(id: String, segments: [Segment]) {
        self.id = id
        self.segments = segments
    }

    /// Which top-level segment each (sub)segment id belongs to.
    package func locate() -> NodeIndex {
        var out = NodeIndex()
        for (i, s) in segments.enumerated() { Self.walk(s, i, into: &out) }
        out.finish()
        return out
    }

    /// (A static function with the index passed in: a nested one captured it in a box, each access checked for
    /// exclusivity at run time.)
    private static func walk(_ s: Segment, _ index: Int, into out: inout NodeIndex) {
        out.add(s.key, index)
        for child in s.subsegments { walk(child, index, into: &out) }
    }

    /// The (sub)segment with `id` inside top-level segment `index`.
    package func node(_ id: SegmentKey, in index: Int) -> Segment? {
        func find(_ s: Segment) -> Segment? {
            if s.key == id { return s }
            for child in s.subsegments { if let found = find(child) { return found } }
            return nil
        }
        return find(segments[index])
    }

    /// The segment a top-level segment was called from (via its parent subsegment, or an async link), if present.
    package func callerIndex(of segment: Segment, in index: NodeIndex) -> Int? {
        guard let parent = segment.parentKey ?? asyncParent(of: segment) else { return nil }
        return index[parent]
    }

    /// The (sub)segment a top-level segment was joined under by a span link, if any.
    package func asyncParent(of id: String) -> String? {
        asyncParents.isEmpty ? nil : asyncParents[id]
    }

    /// The (sub)segment a top-level segment was joined under by a span link, if any (most traces have none).
    package func asyncParent(of segment: Segment) -> SegmentKey? {
        asyncParents.isEmpty ? nil : asyncParents[segment.id].map(SegmentKey.init)
    }
}

/// Ids of a trace's nodes, each with a number (for `locate()`, the top-level segment it belongs to; the first place
/// an id appears wins). Most traces have a handful of nodes: those are held inline (no allocation: an index is built
/// several times per trace) and looked up by comparing ids in turn, which costs less than hashing them; larger ones
/// get a hash table.
package struct NodeIndex {
    /// The first `linearLimit` ids and their numbers, in the order added.
    private var inline: NodeEntries
    /// Ids added beyond those.
    private var overflow: [(id: SegmentKey, owner: Int)] = []
    private var count = 0
    private var table: [SegmentKey: Int]?

    /// Beyond this many nodes, lookups go through a hash table.
    static let linearLimit = 24

    init() {
        inline = NodeEntries(repeating: (SegmentKey(value: 0), 0))
    }

    mutating func add(_ id: SegmentKey, _ owner: Int) {
        if count < Self.linearLimit { inline[count] = (id, owner) } else { overflow.append((id, owner)) }
        count += 1
    }

    mutating func finish() {
        guard count > Self.linearLimit else { return }
        var t: [SegmentKey: Int] = [:]
        t.reserveCapacity(count)
        for i in 0..<Self.linearLimit where t[inline[i].id] == nil { t[inline[i].id] = inline[i].owner }
        for e in overflow where t[e.id] == nil { t[e.id] = e.owner }
        table = t
    }

    package subscript(id: SegmentKey) -> Int? {
        if let table { return table[id] }
        for i in 0..<min(count, Self.linearLimit) where inline[i].id == id { return inline[i].owner }
        for e in overflow where e.id == id { return e.owner }
        return nil
    }

    package subscript(id: String) -> Int? { self[SegmentKey(id)] }
}

#if compiler(>=6.2) && !canImport(Darwin)
/// Room for ``NodeIndex/linearLimit`` entries held inline. (`InlineArray` needs Swift 6.2, and macOS 26 at run time:
/// other builds hold them in an array, one allocation per index.)
typealias NodeEntries = InlineArray<24, (id: SegmentKey, owner: Int)>
#else
/// Room for ``NodeIndex/linearLimit`` entries, in an array where `InlineArray` is not available.
struct NodeEntries {
    private var storage: [(id: SegmentKey, owner: Int)]

    init(repeating value: (id: SegmentKey, owner: Int)) {
        storage = Array(repeating: value, count: NodeIndex.linearLimit)
    }

    subscript(i: Int) -> (id: SegmentKey, owner: Int) {
        get { storage[i] }
        set { storage[i] = newValue }
    }
}
#endif

/// One concern of trace assembly.
package protocol TraceAdjuster: Sendable {
    func adjust(_ trace: inout AssembledTrace)
}

package enum TraceAssembler {
    /// The order matters: versions are settled before merging, links before skew, skew before inferred segments
    /// copy their subsegment's (corrected) times.
    package static let adjusters: [any TraceAdjuster] = [
        LatestVersionAdjuster(), SubsegmentMergeAdjuster(), AsyncLinkAdjuster(), ClockSkewAdjuster(), InferredSegmentAdjuster(),
    ]

    /// Assembles a trace from its documents in arrival order.
    package static func assemble(id: String, documents: [Segment]) -> AssembledTrace {
        var trace = AssembledTrace(id: id, segments: documents)
        for adjuster in adjusters { adjuster.adjust(&trace) }
        return trace
    }
}

/// `in_progress` documents are replaced by the completed version with the same id; otherwise the latest arrival wins.
package struct LatestVersionAdjuster: TraceAdjuster {
    package init() {}
    package func adjust(_ trace: inout AssembledTrace) {
        // Most traces hold each id once: for a few documents, comparing every pair says so without hashing.
        let segments = trace.segments
        if segments.count <= 16,
           !segments.indices.contains(where: { i in segments[(i + 1)...].contains { $0.key == segments[i].key } }) { return }
        var chosen: [SegmentKey: Int] = [:]
        var order: [SegmentKey] = []
        for (i, s) in trace.segments.enumerated() {
            if let previous = chosen[s.key] {
                if !s.inProgress || trace.segments[previous].inProgress { chosen[s.key] = i }
            } else {
                chosen[s.key] = i
                order.append(s.key)
            }
        }
        trace.segments = order.map { trace.segments[chosen[$0]!] }
    }
}

/// Independently sent subsegments go under their parent (a segment, or a subsegment of any depth, possibly itself
/// sent independently), replacing an embedded in-progress copy with the same id.
package struct SubsegmentMergeAdjuster: TraceAdjuster {
    package init() {}
    package func adjust(_ trace: inout AssembledTrace) {
        guard trace.segments.contains(where: \.isSubsegment) || !trace.orphans.isEmpty else { return }
        // (One array made to size: a filtered array grew as it was filled, and joining the orphans made another.)
        var pending: [Segment] = []
        pending.reserveCapacity(trace.segments.count + trace.orphans.count)
        for s in trace.segments where s.isSubsegment { pending.append(s) }
        pending.append(contentsOf: trace.orphans)
        trace.segments.removeAll(where: \.isSubsegment)
        var progressed = true
        while progressed, !pending.isEmpty {
            progressed = false
            let index = trace.locate()
            var left: [Segment] = []
            for sub in pending {
                guard let parent = sub.parentKey, let i = index[parent] else {
                    left.append(sub)
                    continue
                }
                _ = Self.insert(sub, under: parent, into: &trace.segments[i])
                progressed = true
            }
            pending = left
        }
        trace.orphans = pending
    }

    /// Puts `sub` under the node `parent` somewhere in `node`'s tree; false when `parent` is not there.
    private static func insert(_ sub: Segment, under parent: SegmentKey, into node: inout Segment) -> Bool {
        guard node.key == parent else {
            for i in node.subsegments.indices where insert(sub, under: parent, into: &node.subsegments[i]) { return true }
            return false
        }
        if let existing = node.subsegments.firstIndex(where: { $0.key == sub.key }) {
            if !sub.inProgress || node.subsegments[existing].inProgress { node.subsegments[existing] = sub }
        } else {
            node.subsegments.append(sub)
        }
        return true
    }
}

/// Async hops: a root segment whose span `links` name a (sub)segment of this trace (SQS/SNS consumers, EventBridge
/// targets, Skylens's own deliveries) is joined under it, instead of standing as a separate broken trace.
package struct AsyncLinkAdjuster: TraceAdjuster {
    package init() {}
    package func adjust(_ trace: inout AssembledTrace) {
        guard trace.segments.contains(where: { $0.parentKey == nil && !$0.links.isEmpty }) else { return }
        let index = trace.locate()
        for s in trace.segments where s.parentKey == nil {
            if let link = s.links.first(where: { index[$0.id] != nil && index[$0.id] != index[s.key] }) {
                trace.asyncParents[s.id] = link.id
            }
        }
    }
}

/// Clock skew between hosts: a downstream segment that starts before, or ends after, the caller's subsegment that
/// called it (and is not longer than it) is moved, with its subtree, to sit centred inside it. Callers are settled
/// before their callees, so a correction carries down a chain of services.
package struct ClockSkewAdjuster: TraceAdjuster {
    package init() {}
    package func adjust(_ trace: inout AssembledTrace) {
        // Shifting moves whole subtrees, so where each id is does not change: locate once.
        let index = trace.locate()
        var done = [Bool](repeating: false, count: trace.segments.count)
        func settle(_ i: Int, depth: Int) {
            guard !done[i], depth < 64 else { return }
            done[i] = true
            let segment = trace.segments[i]
            guard let parentID = segment.parentKey, trace.asyncParent(of: segment) == nil, let owner = index[parentID],
                  owner != i else { return }
            settle(owner, depth: depth + 1)
            guard let parent = trace.node(parentID, in: owner), let parentEnd = parent.endTime, let childEnd = segment.endTime else { return }
            let outside = segment.startTime < parent.startTime || childEnd > parentEnd
            let parentDuration = parentEnd - parent.startTime, childDuration = childEnd - segment.startTime
            guard outside, childDuration <= parentDuration else { return }
            let delta = parent.startTime + (parentDuration - childDuration) / 2 - segment.startTime
            trace.segments[i].shift(by: delta)
            trace.skewCorrections[segment.id] = delta
        }
        for i in trace.segments.indices where trace.segments[i].parentKey != nil { settle(i, depth: 0) }
    }
}

/// Calls to services that send no segments of their own: a subsegment with `namespace` `aws` or `remote` that no
/// downstream segment names as its parent (and that does not say `http.request.traced`) gets an inferred segment (its name, times, http block and error flags, a
/// new id derived from the subsegment's, `parent_id` = the subsegment, `inferred: true`).
package struct InferredSegmentAdjuster: TraceAdjuster {
    package init() {}
    package func adjust(_ trace: inout AssembledTrace) {
        // Ids that downstream segments name as their parent.
        var parents = NodeIndex()
        for (i, s) in trace.segments.enumerated() { if let p = s.parentKey { parents.add(p, i) } }
        parents.finish()
        func called(_ id: SegmentKey) -> Bool { parents[id] != nil }
        var inferred: [Segment] = []
        for s in trace.segments where !s.inferred {
            for child in s.subsegments {
                child.forEachNode { node in
                    guard node.namespace == "aws" || node.namespace == "remote", !node.http.traced, !called(node.key) else { return }
                    inferred.append(Self.inferredSegment(for: node, traceID: trace.id))
                }
            }
        }
        trace.segments += inferred
    }

    /// The inferred segment for a downstream call's subsegment.
    package static func inferredSegment(for node: Segment, traceID: String) -> Segment {
        var s = Segment(
            key: inferredKey(node.key), traceID: traceID, parentKey: node.key, name: node.name, startTime: node.startTime,
            endTime: node.endTime, inProgress: node.inProgress, isSubsegment: false, namespace: node.namespace,
            origin: node.namespace == "aws" ? "AWS::" + node.name : nil, http: node.http, error: node.error, fault: node.fault,
            throttle: node.throttle, annotations: [], user: nil, awsOperation: node.awsOperation, resourceARN: node.resourceARN,
            exceptions: [], links: [], subsegments: [])
        s.http.traced = false
        s.inferred = true
        return s
    }

    /// A stable 16-hex-digit id for the inferred segment (FNV-1a of "inferred:" and the subsegment id), so it does not
    /// change each time the trace is assembled.
    static func inferredKey(_ subsegment: SegmentKey) -> SegmentKey {
        var h = FNV1a()
        for b in "inferred:".utf8 { h.add(b) }
        subsegment.forEachHexDigit { h.add($0) }
        return SegmentKey(value: h.value)
    }
}
