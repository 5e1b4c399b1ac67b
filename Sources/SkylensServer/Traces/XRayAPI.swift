import Foundation
import SkylensCore
import SkylensStorage
import SkylensWire

/// The X-Ray API (rest-json, `POST /<Operation path>`): PutTraceSegments, BatchGetTraces, GetTraceSummaries,
/// GetServiceGraph, GetTraceGraph, GetTimeSeriesServiceStatistics, and the sampling endpoints the SDKs poll.
package struct XRayAPI: Sendable {
    /// Request paths → operation names (the service model's `requestUri`s).
    package static let operations: [String: String] = [
        "/TraceSegments": "PutTraceSegments", "/Traces": "BatchGetTraces", "/TraceSummaries": "GetTraceSummaries",
        "/ServiceGraph": "GetServiceGraph", "/TraceGraph": "GetTraceGraph",
        "/TimeSeriesServiceStatistics": "GetTimeSeriesServiceStatistics", "/GetSamplingRules": "GetSamplingRules",
        "/SamplingTargets": "GetSamplingTargets",
    ]
    /// Summaries per GetTraceSummaries page.
    static let pageSize = 100
    /// BatchGetTraces takes at most 5 trace ids.
    static let maxBatchTraceIDs = 5

    let store: any TraceStore
    let writer: TraceWriter
    let sampling: SamplingService
    let wallClock: any WallClock
    let region: String
    let account: String
    /// Told the traces whose root segments PutTraceSegments stored (the X-Ray daemon's, so that documents it holds
    /// for those roots are written).
    let rootsStored: @Sendable ([TraceKey]) -> Void

    package init(store: any TraceStore, writer: TraceWriter, sampling: SamplingService, wallClock: any WallClock, region: String,
                 account: String, rootsStored: @escaping @Sendable ([TraceKey]) -> Void) {
        self.store = store
        self.writer = writer
        self.rootsStored = rootsStored
        self.sampling = sampling
        self.wallClock = wallClock
        self.region = region
        self.account = account
    }

    package func handle(operation: String, body p: WireValue) async throws(XRayError) -> WireValue {
        do {
            switch operation {
            case "PutTraceSegments": return try await putTraceSegments(p)
            case "BatchGetTraces": return try await batchGetTraces(p)
            case "GetTraceSummaries": return try await traceSummaries(p)
            case "GetServiceGraph": return try await serviceGraph(p)
            case "GetTraceGraph": return try await traceGraph(p)
            case "GetTimeSeriesServiceStatistics": return try await timeSeries(p)
            case "GetSamplingRules": return sampling.rulesDocument(region: region, account: account)
            case "GetSamplingTargets": return try sampling.targets(p, now: wallClock.nowMillis())
            default: throw XRayError(.unknownOperation, "Unknown operation \(operation).")
            }
        } catch let error as XRayError {
            throw error
        } catch is XRayServiceUnavailable {
            throw XRayError(.throttled, "The collector is shutting down.")
        } catch {
            throw XRayError(.internalFailure, "\(error)")
        }
    }

    // MARK: Segments and traces

    private func putTraceSegments(_ p: WireValue) async throws -> WireValue {
        guard let list = p["TraceSegmentDocuments"]?.array else {
            throw XRayError.invalid("TraceSegmentDocuments is required: a list of segment documents (JSON strings).")
        }
        let now = wallClock.nowMillis() / 1000
        var accepted: [SegmentDocument] = []
        var unprocessed: [WireValue] = []
        var traceIDs = TraceIDReuse()
        for item in list {
            guard let text = item.string else { throw XRayError.invalid("Each trace segment document is a string.") }
            var bytes = Array(text.utf8)
            let result = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(SegmentError) in try Segment.parse(UnsafeRawBufferPointer(buffer), nowSeconds: now, reusing: &traceIDs) }
            }
            switch result {
            case .success(let segment):
                accepted.append(SegmentDocument(segment: segment, text: bytes[...]))
            case .failure(let e):
                var m: [(String, WireValue)] = []
                if let id = e.id ?? Self.documentID(text) { m.append(("Id", .string(id))) }
                m += [("ErrorCode", .string(e.code)), ("Message", .string(e.message))]
                unprocessed.append(.map(m))
            }
            bytes.removeAll()
        }
        try await writer.put(accepted)
        let roots = accepted.filter(RootlessHold.isRoot).compactMap(\.traceKey)
        if !roots.isEmpty { rootsStored(roots) }
        return .map([("UnprocessedTraceSegments", .array(unprocessed))])
    }

    /// The `id` of a document that did not validate, when it can be read at all.
    private static func documentID(_ text: String) -> String? { (try? JSONValue.parse(text))?["id"]?.string }

    private func traceIDs(_ p: WireValue, max: Int) throws -> [String] {
        guard let list = p["TraceIds"]?.array, !list.isEmpty else { throw XRayError.invalid("TraceIds is required.") }
        guard list.count <= max else { throw XRayError.invalid("TraceIds takes at most \(max) trace ids.") }
        return try list.map {
            guard let id = $0.string, TraceIdentifiers.isValidTraceID(id) else {
                throw XRayError.invalid("Invalid trace id \($0.string ?? "") (format 1-<8 hex digits>-<24 hex digits>).")
            }
            return id
        }
    }

    private func batchGetTraces(_ p: WireValue) async throws -> WireValue {
        let ids = try traceIDs(p, max: Self.maxBatchTraceIDs)
        let traces = try await store.traces(ids: ids)
        let found = Set(traces.flatMap { [$0.facts.id] + $0.facts.linkedTraceIDs })
        return .map([
            ("Traces", .array(traces.map(XRayDocuments.trace))),
            ("UnprocessedTraceIds", .array(ids.filter { !found.contains($0) }.map { .string($0) })),
        ])
    }

    // MARK: Summaries

    private func timeRange(_ p: WireValue) throws -> (Double, Double) {
        guard let start = p["StartTime"]?.number, let end = p["EndTime"]?.number else {
            throw XRayError.invalid("StartTime and EndTime are required.")
        }
        guard start <= end else { throw XRayError.invalid("StartTime must not be after EndTime.") }
        return (start, end)
    }

    private func traceSummaries(_ p: WireValue) async throws -> WireValue {
        let (start, end) = try timeRange(p)
        guard end - start <= 86_400 else { throw XRayError.invalid("The time range of GetTraceSummaries is at most 24 hours.") }
        let range: TraceTimeRange
        if let r = p["TimeRangeType"]?.string {
            guard let parsed = TraceTimeRange(rawValue: r) else {
                throw XRayError.invalid("TimeRangeType must be TraceId, Event or Service, not \(r).")
            }
            range = parsed
        } else {
            range = .traceID
        }
        var filter: FilterExpression?
        if let text = p["FilterExpression"]?.string, !text.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                filter = try FilterExpression.parse(text)
            } catch {
                throw XRayError.invalid("Invalid filter expression: \(error)")
            }
            if let group = filter?.groupReferences.first {
                throw XRayError.invalid("Group \(group) not found: Skylens has no X-Ray groups; write the group's filter expression instead.")
            }
        }
        let page = try await store.summaries(start: start, end: end, range: range, filter: filter, after: p["NextToken"]?.string,
                                             limit: Self.pageSize)
        var out: [(String, WireValue)] = [
            ("TraceSummaries", .array(page.summaries.map { XRayDocuments.summary($0, account: account) })),
            ("ApproximateTime", .timestamp(Double(wallClock.nowMillis() / 1000))),
            ("TracesProcessedCount", .int(Int64(page.processed))),
        ]
        if let token = page.nextToken { out.append(("NextToken", .string(token))) }
        return .map(out)
    }

    // MARK: Service map

    private func checkGroup(_ p: WireValue) throws {
        if let g = p["GroupName"]?.string ?? p["GroupARN"]?.string, g != "Default" {
            throw XRayError.invalid("Group \(g) not found: Skylens serves the Default group only.")
        }
    }

    private func serviceGraph(_ p: WireValue) async throws -> WireValue {
        let (start, end) = try timeRange(p)
        try checkGroup(p)
        let rows = try await store.serviceGraph(start: start, end: end)
        let roots = Self.rootServices(rows)
        return .map([
            ("StartTime", .timestamp(start)), ("EndTime", .timestamp(end)),
            ("Services", XRayDocuments.services(rows, roots: roots, start: start, end: end, account: account)),
            ("ContainsOldGroupVersions", .bool(false)),
        ])
    }

    /// Services no edge points at are the map's entry points.
    private static func rootServices(_ rows: [ServiceGraphRow]) -> Set<ServiceID> {
        let called = Set(rows.filter { $0.source != nil }.map(\.destination))
        return Set(rows.filter { $0.source == nil && !called.contains($0.destination) }.map(\.destination))
    }

    private func traceGraph(_ p: WireValue) async throws -> WireValue {
        let ids = try traceIDs(p, max: Self.maxBatchTraceIDs)
        let traces = try await store.traces(ids: ids)
        let samples = traces.flatMap(\.facts.graph)
        let rows = ServiceGraphDelta.rows(adding: samples, removing: [])
        let roots = Set(traces.compactMap(\.facts.entryPoint))
        let start = traces.map(\.facts.startTime).min() ?? 0, end = traces.map(\.facts.endTime).max() ?? 0
        return .map([("Services", XRayDocuments.services(rows, roots: roots, start: start, end: end + 60, account: account))])
    }

    private func timeSeries(_ p: WireValue) async throws -> WireValue {
        let (start, end) = try timeRange(p)
        try checkGroup(p)
        let period = Int64(p["Period"]?.number ?? 60)
        guard period >= 60, period % 60 == 0 else { throw XRayError.invalid("Period is a multiple of 60 seconds.") }
        var source: FilterExpression.ServiceSelector?
        var destination = FilterExpression.ServiceSelector.any
        if let text = p["EntitySelectorExpression"]?.string {
            switch try? FilterExpression.parse(text) {
            case .service(let s, nil)?: destination = s
            case .edge(let a, let b, nil)?:
                source = a
                destination = b
            default:
                throw XRayError.invalid("EntitySelectorExpression is service(\"name\") or edge(\"source\", \"destination\").")
            }
        }
        let rows = try await store.serviceGraph(start: start, end: end).filter { row in
            if let source {
                guard let s = row.source else { return false }
                return source.matches(s) && destination.matches(row.destination)
            }
            return row.source == nil && destination.matches(row.destination)
        }
        var buckets: [Int64: ServiceStatistics] = [:]
        for r in rows { buckets[r.minute / period * period, default: .init()].merge(r.statistics) }
        let key = source == nil ? "ServiceSummaryStatistics" : "EdgeSummaryStatistics"
        return .map([
            ("TimeSeriesServiceStatistics", .array(buckets.sorted { $0.key < $1.key }.map { t, s in
                .map([("Timestamp", .timestamp(Double(t))), (key, XRayDocuments.statistics(s)),
                      ("ResponseTimeHistogram", XRayDocuments.histogram(s))])
            })),
            ("ContainsOldGroupVersions", .bool(false)),
        ])
    }
}

/// The sampling rules the SDKs poll (`rules/` plus the default rule) and the reservoir quotas handed out.
package final class SamplingService: Sendable {
    let rules: [SamplingRule]
    /// When the rules were loaded (LastRuleModification), epoch seconds.
    let loadedAt: Double
    private let quotas = LockedState(SamplingQuotas())

    package init(rules: [SamplingRule], loadedAt: Double) {
        self.rules = rules.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) } + [.default]
        self.loadedAt = loadedAt
    }

    func rulesDocument(region: String, account: String) -> WireValue {
        .map([("SamplingRuleRecords", .array(rules.map { XRayDocuments.samplingRule($0, region: region, account: account, modified: loadedAt) }))])
    }

    func targets(_ p: WireValue, now: Int64) throws -> WireValue {
        guard let docs = p["SamplingStatisticsDocuments"]?.array else {
            throw XRayError.invalid("SamplingStatisticsDocuments is required.")
        }
        let seconds = now / 1000
        var targets: [WireValue] = [], unprocessed: [WireValue] = []
        for d in docs {
            guard let name = d["RuleName"]?.string, let client = d["ClientID"]?.string else {
                throw XRayError.invalid("Each statistics document needs RuleName and ClientID.")
            }
            guard let rule = rules.first(where: { $0.name == name }) else {
                unprocessed.append(.map([("RuleName", .string(name)), ("ErrorCode", .string("400")),
                                         ("Message", .string("Unknown sampling rule \(name)."))]))
                continue
            }
            let quota = quotas.withLock { $0.report(rule: rule, client: client, now: seconds) }
            targets.append(.map([
                ("RuleName", .string(name)), ("FixedRate", .double(rule.fixedRate)), ("ReservoirQuota", .int(Int64(quota))),
                ("ReservoirQuotaTTL", .timestamp(Double(seconds + SamplingQuotas.interval))), ("Interval", .int(SamplingQuotas.interval)),
            ]))
        }
        return .map([("SamplingTargetDocuments", .array(targets)), ("LastRuleModification", .timestamp(loadedAt)),
                     ("UnprocessedStatistics", .array(unprocessed))])
    }
}
