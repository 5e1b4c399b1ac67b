/// A node of the service map: a service's name and type (`origin`, `AWS::<name>` for an inferred AWS call,
/// `remote` for another inferred downstream, empty when the segment says nothing).
package struct ServiceID: Sendable, Hashable, Comparable {
    package var name: String
    package var type: String

    package init(name: String, type: String) {
        self.name = name
        self.type = type
    }

    package init(_ segment: Segment) {
        name = segment.name
        type = segment.origin ?? (segment.inferred ? (segment.namespace == "aws" ? "AWS::" + segment.name : "remote") : "")
    }

    package static func < (a: ServiceID, b: ServiceID) -> Bool { (a.name, a.type) < (b.name, b.type) }
}

/// How one request ended, as the service map counts it.
package enum Outcome: String, Sendable {
    case ok, error, throttle, fault

    package init(error: Bool, fault: Bool, throttle: Bool) {
        self = fault ? .fault : throttle ? .throttle : error ? .error : .ok
    }
}

/// A service of one trace, with what happened in it.
package struct ServiceFacts: Sendable, Equatable {
    package var id: ServiceID
    package var root: Bool
    package var inferred: Bool
    package var error: Bool
    package var fault: Bool
    package var throttle: Bool
    /// The longest time one of its segments took, in seconds.
    package var responseTime: Double

    package init(id: ServiceID, root: Bool, inferred: Bool = false, error: Bool, fault: Bool, throttle: Bool = false,
                 responseTime: Double = 0) {
        self.id = id
        self.root = root
        self.inferred = inferred
        self.error = error
        self.fault = fault
        self.throttle = throttle
        self.responseTime = responseTime
    }
}

/// A call from one service to another in one trace.
package struct EdgeFacts: Sendable, Equatable {
    package var source: ServiceID
    package var destination: ServiceID
    package var error: Bool
    package var fault: Bool
    package var throttle: Bool
    package var responseTime: Double
    /// Joined by a span link (a queue or topic hop), not a direct call.
    package var async: Bool

    package init(source: ServiceID, destination: ServiceID, error: Bool, fault: Bool, throttle: Bool = false,
                 responseTime: Double = 0, async: Bool = false) {
        self.source = source
        self.destination = destination
        self.error = error
        self.fault = fault
        self.throttle = throttle
        self.responseTime = responseTime
        self.async = async
    }
}

/// An annotation of a trace, with the services that recorded it.
package struct TraceAnnotation: Sendable, Equatable {
    package var key: String
    package var value: AnnotationValue
    package var services: [ServiceID]

    package init(key: String, value: AnnotationValue, services: [ServiceID]) {
        self.key = key
        self.value = value
        self.services = services
    }
}

/// One root cause: the services from the entry point down to the one where the problem started.
package struct RootCause: Sendable, Equatable {
    package struct Entity: Sendable, Equatable {
        package var name: String
        package var exceptions: [SegmentException]
        package var remote: Bool
        /// Response-time root causes: the share of the trace's response time spent here.
        package var coverage: Double?

        package init(name: String, exceptions: [SegmentException], remote: Bool, coverage: Double?) {
            self.name = name
            self.exceptions = exceptions
            self.remote = remote
            self.coverage = coverage
        }
    }

    package struct Service: Sendable, Equatable {
        package var id: ServiceID
        package var inferred: Bool
        package var entityPath: [Entity]

        package init(id: ServiceID, inferred: Bool, entityPath: [Entity]) {
            self.id = id
            self.inferred = inferred
            self.entityPath = entityPath
        }
    }

    package var services: [Service]
    package var clientImpacting: Bool

    package init(services: [Service], clientImpacting: Bool) {
        self.services = services
        self.clientImpacting = clientImpacting
    }
}

/// One request's contribution to the service map: a service's own count (`source` nil) or a call on an edge.
package struct GraphSample: Sendable, Hashable {
    /// Epoch seconds of the minute the request started in.
    package var minute: Int64
    package var source: ServiceID?
    package var destination: ServiceID
    package var outcome: Outcome
    /// Milliseconds, rounded (the histogram's resolution).
    package var responseTimeMillis: Int64

    package init(minute: Int64, source: ServiceID?, destination: ServiceID, outcome: Outcome, responseTimeMillis: Int64) {
        self.minute = minute
        self.source = source
        self.destination = destination
        self.outcome = outcome
        self.responseTimeMillis = responseTimeMillis
    }
}

/// What a trace summary says and filter expressions ask about: the trace reduced to its services, edges, annotations
/// and root causes. Computed from an ``AssembledTrace`` whenever a document of the trace arrives.
package struct TraceFacts: Sendable, Equatable {
    package var id: String
    package var startTime: Double
    package var endTime: Double
    package var duration: Double
    package var responseTime: Double?
    package var http: SegmentHTTP?
    package var hasError: Bool
    package var hasFault: Bool
    package var hasThrottle: Bool
    package var isPartial: Bool
    package var users: [String]
    package var annotations: [TraceAnnotation]
    package var services: [ServiceFacts]
    package var edges: [EdgeFacts]
    package var entryPoint: ServiceID?
    package var faultRootCauses: [RootCause]
    package var errorRootCauses: [RootCause]
    package var throttleRootCauses: [RootCause]
    package var responseTimeRootCauses: [RootCause]
    /// Trace ids joined into this one by async links.
    package var linkedTraceIDs: [String]
    package var segmentCount: Int
    package var graph: [GraphSample]

    package init(id: String, startTime: Double = 0, endTime: Double = 0, duration: Double = 0, responseTime: Double? = nil,
                 http: SegmentHTTP? = nil, hasError: Bool = false, hasFault: Bool = false, hasThrottle: Bool = false,
                 isPartial: Bool = false, users: [String] = [], annotations: [TraceAnnotation] = [], services: [ServiceFacts] = [],
                 edges: [EdgeFacts] = []) {
        self.id = id
        self.startTime = startTime
        self.endTime = endTime
        self.duration = duration
        self.responseTime = responseTime
        self.http = http
        self.hasError = hasError
        self.hasFault = hasFault
        self.hasThrottle = hasThrottle
        self.isPartial = isPartial
        self.users = users
        self.annotations = annotations
        self.services = services
        self.edges = edges
        entryPoint = services.first(where: \.root)?.id
        faultRootCauses = []
        errorRootCauses = []
        throttleRootCauses = []
        responseTimeRootCauses = []
        linkedTraceIDs = []
        segmentCount = 0
        graph = []
    }

    /// `ok`: the response was 2XX (without an HTTP status: no error, fault or throttle).
    package var ok: Bool {
        if let status = http?.status { return (200..<300).contains(status) }
        return !hasError && !hasFault && !hasThrottle
    }
}

extension TraceFacts {
    /// Summarises an assembled trace.
    package init(_ trace: AssembledTrace) {
        self.init(id: trace.id)
        summarize(trace)
    }

    /// Fills in these facts (of a trace with no facts yet) from the assembled trace. A method, so that the append
    /// path can summarise into facts it holds: the initializer's body copied all the facts once made.
    package mutating func summarize(_ trace: AssembledTrace) {
        let index = trace.locate()
        let segments = trace.segments
        segmentCount = segments.count
        guard !segments.isEmpty else {
            isPartial = true
            return
        }
        var start = Double.infinity, end = -Double.infinity
        for s in segments {
            start = min(start, s.startTime)
            end = max(end, s.effectiveEnd)
        }
        startTime = start
        endTime = end
        duration = max(0, end - start)
        // The root: the earliest segment that nothing in the trace called.
        let callers = segments.map { trace.callerIndex(of: $0, in: index) }
        var rootIndex = 0, rootFound = false
        for i in segments.indices where callers[i] == nil && !segments[i].inferred {
            if !rootFound || segments[i].startTime < segments[rootIndex].startTime { (rootIndex, rootFound) = (i, true) }
        }
        let root = segments[rootIndex]
        responseTime = root.endTime.map { $0 - root.startTime }
        http = root.http.isEmpty ? nil : root.http
        hasError = root.error
        hasFault = root.fault
        hasThrottle = root.throttle
        entryPoint = ServiceID(root)
        isPartial = !trace.orphans.isEmpty || segments.contains { $0.inProgress }
            || segments.indices.contains { callers[$0] == nil && $0 != rootIndex && !segments[$0].inferred }
            || segments.contains { $0.parentKey != nil && index[$0.parentKey!] == nil }
        linkedTraceIDs = segments.allSatisfy { $0.traceID == trace.id } ? []
            : Array(Set(segments.map(\.traceID)).subtracting([trace.id])).sorted()

        // A trace names a handful of services: kept in a list and searched, which costs less than hashing names.
        var services: [ServiceFacts] = []
        var users: [String] = []
        var annotations: [TraceAnnotation] = []
        annotations.reserveCapacity(segments.first?.annotations.count ?? 0)
        var graph: [GraphSample] = []
        // At most one service, one request and one call per segment: room made once instead of growing.
        services.reserveCapacity(segments.count)
        graph.reserveCapacity(segments.count * 2)
        edges.reserveCapacity(segments.count)
        // Whether any node has each flag: most traces have none, and then have no root causes to look for.
        var flagged = (error: false, fault: false, throttle: false)
        for (i, s) in segments.enumerated() {
            let id = ServiceID(s)
            let k = services.firstIndex { $0.id == id } ?? {
                services.append(ServiceFacts(id: id, root: false, inferred: s.inferred, error: false, fault: false))
                return services.count - 1
            }()
            services[k].root = services[k].root || i == rootIndex
            services[k].error = services[k].error || s.error
            services[k].fault = services[k].fault || s.fault
            services[k].throttle = services[k].throttle || s.throttle
            services[k].responseTime = max(services[k].responseTime, s.duration)
            let minute = Int64((s.startTime / 60).rounded(.down)) * 60
            let outcome = Outcome(error: s.error, fault: s.fault, throttle: s.throttle)
            let millis = Int64((s.duration * 1000).rounded())
            graph.append(GraphSample(minute: minute, source: nil, destination: id, outcome: outcome, responseTimeMillis: millis))
            if let c = callers[i] {
                let source = ServiceID(segments[c])
                let async = trace.asyncParent(of: s) != nil
                edges.append(EdgeFacts(source: source, destination: id, error: s.error, fault: s.fault, throttle: s.throttle,
                                       responseTime: s.duration, async: async))
                graph.append(GraphSample(minute: minute, source: source, destination: id, outcome: outcome, responseTimeMillis: millis))
            }
            s.forEachNode { node in
                flagged.error = flagged.error || (node.error && !node.throttle)
                flagged.fault = flagged.fault || node.fault
                flagged.throttle = flagged.throttle || node.throttle
                if let u = node.user, !users.contains(u) { users.append(u) }
                for a in node.annotations {
                    if let k = annotations.firstIndex(where: { $0.key == a.key && $0.value == a.value }) {
                        if !annotations[k].services.contains(id) { annotations[k].services.append(id) }
                    } else {
                        annotations.append(TraceAnnotation(key: a.key, value: a.value, services: [id]))
                    }
                }
            }
        }
        services.sort { ($0.root ? 0 : 1, $0.id) < ($1.root ? 0 : 1, $1.id) }
        self.services = services
        self.users = users
        self.annotations = annotations
        self.graph = graph
        let analysis = RootCauseAnalysis(trace: trace, rootIndex: rootIndex)
        faultRootCauses = flagged.fault ? analysis.causes { $0.fault } : []
        errorRootCauses = flagged.error ? analysis.causes { $0.error && !$0.throttle } : []
        throttleRootCauses = flagged.throttle ? analysis.causes { $0.throttle } : []
        responseTimeRootCauses = analysis.slowest(responseTime: responseTime ?? duration)
    }
}

/// Root causes, found by walking down from the entry point: for faults (errors, throttles), each deepest
/// (sub)segment with the flag whose children do not have it; for response time, the slowest child at each step.
struct RootCauseAnalysis {
    let trace: AssembledTrace
    let rootIndex: Int
    /// Each top-level segment's caller: the (sub)segment id it names as parent, or was linked under.
    private let callers: [SegmentKey?]
    /// Top-level segments called from each (sub)segment id, for large traces (small ones are scanned in turn).
    private let calls: [SegmentKey: [Int]]?

    init(trace: AssembledTrace, rootIndex: Int) {
        self.trace = trace
        self.rootIndex = rootIndex
        callers = trace.segments.map { $0.parentKey ?? trace.asyncParent(of: $0) }
        guard callers.count > NodeIndex.linearLimit else {
            calls = nil
            return
        }
        var calls: [SegmentKey: [Int]] = [:]
        for (i, p) in callers.enumerated() { if let p { calls[p, default: []].append(i) } }
        self.calls = calls
    }

    /// Each step down the trace from `node`: its subsegments (same service), then the segments it called.
    private func forEachChild(of node: Segment, _ body: (_ child: Segment, _ newService: Bool) -> Void) {
        for s in node.subsegments { body(s, false) }
        if let calls {
            for i in calls[node.key] ?? [] { body(trace.segments[i], true) }
        } else {
            for i in callers.indices where callers[i] == node.key { body(trace.segments[i], true) }
        }
    }

    /// A step down the trace: a subsegment of the same service, or a segment of a called service.
    private func children(of node: Segment) -> [(node: Segment, newService: Bool)] {
        var out: [(node: Segment, newService: Bool)] = []
        forEachChild(of: node) { out.append(($0, $1)) }
        return out
    }

    /// Paths to each deepest flagged (sub)segment (callers check first that some node has the flag).
    func causes(_ flagged: (Segment) -> Bool) -> [RootCause] {
        let root = trace.segments[rootIndex]
        guard flagged(root) || hasFlag(root, flagged, depth: 0) else { return [] }
        var out: [RootCause] = []
        var path: [RootCause.Service] = [service(root)]
        func walk(_ node: Segment, depth: Int) {
            let flaggedChildren = children(of: node).filter { flagged($0.node) || hasFlag($0.node, flagged, depth: depth + 1) }
            if flaggedChildren.isEmpty || depth > 64 {
                if flagged(node), !out.contains(where: { $0.services == path }) {
                    out.append(RootCause(services: path, clientImpacting: flagged(root)))
                }
                return
            }
            for child in flaggedChildren {
                let saved = path
                if child.newService {
                    path.append(service(child.node))
                } else {
                    path[path.count - 1].entityPath.append(entity(child.node))
                }
                walk(child.node, depth: depth + 1)
                path = saved
            }
        }
        walk(root, depth: 0)
        return out
    }

    private func hasFlag(_ node: Segment, _ flagged: (Segment) -> Bool, depth: Int) -> Bool {
        guard depth < 64 else { return false }
        return children(of: node).contains { flagged($0.node) || hasFlag($0.node, flagged, depth: depth + 1) }
    }

    func slowest(responseTime: Double) -> [RootCause] {
        var node = trace.segments[rootIndex]
        var path: [RootCause.Service] = []
        path.reserveCapacity(trace.segments.count)
        path.append(service(node))
        for _ in 0..<64 {
            var slowest: (node: Segment, newService: Bool)?
            forEachChild(of: node) { child, newService in
                if slowest == nil || slowest!.node.duration < child.duration { slowest = (child, newService) }
            }
            guard let next = slowest else { break }
            var e = entity(next.node)
            e.coverage = responseTime > 0 ? min(1, next.node.duration / responseTime) : nil
            if next.newService {
                var s = service(next.node)
                s.entityPath[0].coverage = e.coverage
                path.append(s)
            } else {
                path[path.count - 1].entityPath.append(e)
            }
            node = next.node
        }
        return [RootCause(services: path, clientImpacting: true)]
    }

    private func service(_ s: Segment) -> RootCause.Service {
        // Room for the entities a path appends within the service (growing from one reallocated it each time).
        var path: [RootCause.Entity] = []
        path.reserveCapacity(4)
        path.append(entity(s))
        return RootCause.Service(id: ServiceID(s), inferred: s.inferred, entityPath: path)
    }

    private func entity(_ s: Segment) -> RootCause.Entity {
        RootCause.Entity(name: s.name, exceptions: s.exceptions, remote: s.namespace == "remote" || s.namespace == "aws" || s.inferred,
                         coverage: nil)
    }
}
