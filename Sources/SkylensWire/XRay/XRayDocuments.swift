import SkylensCore

/// The X-Ray API's response shapes (service model xray 2016-04-12), built from Core's trace facts and map rows.
package enum XRayDocuments {
    package static func serviceID(_ id: ServiceID, account: String) -> WireValue {
        var m: [(String, WireValue)] = [("Name", .string(id.name)), ("Names", .array([.string(id.name)])), ("AccountId", .string(account))]
        if !id.type.isEmpty { m.append(("Type", .string(id.type))) }
        return .map(m)
    }

    package static func http(_ h: SegmentHTTP) -> WireValue {
        var m: [(String, WireValue)] = []
        if let u = h.url { m.append(("HttpURL", .string(u))) }
        if let s = h.status { m.append(("HttpStatus", .int(Int64(s)))) }
        if let x = h.method { m.append(("HttpMethod", .string(x))) }
        if let a = h.userAgent { m.append(("UserAgent", .string(a))) }
        if let c = h.clientIP { m.append(("ClientIp", .string(c))) }
        return .map(m)
    }

    package static func annotationValue(_ v: AnnotationValue) -> WireValue {
        switch v {
        case .string(let s): .map([("StringValue", .string(s))])
        case .number(let n): .map([("NumberValue", .double(n))])
        case .bool(let b): .map([("BooleanValue", .bool(b))])
        }
    }

    /// A `TraceSummary`.
    package static func summary(_ f: TraceFacts, account: String) -> WireValue {
        var annotations: [(String, WireValue)] = []
        for a in f.annotations {
            let entry = WireValue.map([("AnnotationValue", annotationValue(a.value)),
                                       ("ServiceIds", .array(a.services.map { serviceID($0, account: account) }))])
            if let i = annotations.firstIndex(where: { $0.0 == a.key }), case .array(let list) = annotations[i].1 {
                annotations[i].1 = .array(list + [entry])
            } else {
                annotations.append((a.key, .array([entry])))
            }
        }
        var m: [(String, WireValue)] = [
            ("Id", .string(f.id)),
            ("StartTime", .timestamp(f.startTime)),
            ("Duration", .double(f.duration)),
        ]
        if let r = f.responseTime { m.append(("ResponseTime", .double(r))) }
        m += [
            ("HasFault", .bool(f.hasFault)), ("HasError", .bool(f.hasError)), ("HasThrottle", .bool(f.hasThrottle)),
            ("IsPartial", .bool(f.isPartial)),
            ("Http", f.http.map(http) ?? .map([])),
            ("Annotations", .map(annotations)),
            ("Users", .array(f.users.map { user in
                .map([("UserName", .string(user)), ("ServiceIds", .array(f.entryPoint.map { [serviceID($0, account: account)] } ?? []))])
            })),
            ("ServiceIds", .array(f.services.map { serviceID($0.id, account: account) })),
        ]
        if let e = f.entryPoint { m.append(("EntryPoint", serviceID(e, account: account))) }
        m += [
            ("FaultRootCauses", .array(f.faultRootCauses.map { rootCause($0, account: account, exceptions: true) })),
            ("ErrorRootCauses", .array((f.errorRootCauses + f.throttleRootCauses).map { rootCause($0, account: account, exceptions: true) })),
            ("ResponseTimeRootCauses", .array(f.responseTimeRootCauses.map { rootCause($0, account: account, exceptions: false) })),
            ("Revision", .int(Int64(f.segmentCount))),
        ]
        return .map(m)
    }

    static func rootCause(_ c: RootCause, account: String, exceptions: Bool) -> WireValue {
        .map([
            ("Services", .array(c.services.map { s in
                var service = serviceID(s.id, account: account)
                if case .map(var m) = service {
                    m.append(("Inferred", .bool(s.inferred)))
                    m.append(("EntityPath", .array(s.entityPath.map { e in
                        var entity: [(String, WireValue)] = [("Name", .string(e.name)), ("Remote", .bool(e.remote))]
                        if exceptions {
                            entity.append(("Exceptions", .array(e.exceptions.map {
                                .map([("Name", .string($0.type ?? "")), ("Message", .string($0.message ?? ""))])
                            })))
                        } else if let coverage = e.coverage {
                            entity.append(("Coverage", .double(coverage)))
                        }
                        return .map(entity)
                    })))
                    service = .map(m)
                }
                return service
            })),
            ("ClientImpacting", .bool(c.clientImpacting)),
        ])
    }

    /// A `Trace` of BatchGetTraces: its documents as sent.
    package static func trace(_ t: StoredTrace) -> WireValue {
        .map([
            ("Id", .string(t.facts.id)),
            ("Duration", .double(t.facts.duration)),
            ("LimitExceeded", .bool(false)),
            ("Segments", .array(t.documents.map { .map([("Id", .string($0.id)), ("Document", .string($0.text))]) })),
        ])
    }

    /// `EdgeStatistics` / `ServiceStatistics`.
    package static func statistics(_ s: ServiceStatistics) -> WireValue {
        .map([
            ("OkCount", .int(s.ok)),
            ("ErrorStatistics", .map([("ThrottleCount", .int(s.throttle)), ("OtherCount", .int(s.error)), ("TotalCount", .int(s.error + s.throttle))])),
            ("FaultStatistics", .map([("OtherCount", .int(s.fault)), ("TotalCount", .int(s.fault))])),
            ("TotalCount", .int(s.total)),
            ("TotalResponseTime", .double(Double(s.totalResponseTimeMillis) / 1000)),
        ])
    }

    /// A histogram: (seconds, count) entries in ascending order.
    package static func histogram(_ s: ServiceStatistics) -> WireValue {
        .array(s.histogram.sorted { $0.key < $1.key }.map { .map([("Value", .double(Double($0.key) / 1000)), ("Count", .int($0.value))]) })
    }

    /// GetServiceGraph / GetTraceGraph `Services`: nodes with their outgoing edges, from per-minute rows.
    package static func services(_ rows: [ServiceGraphRow], roots: Set<ServiceID>, start: Double, end: Double, account: String) -> WireValue {
        var nodes: [ServiceID: ServiceStatistics] = [:]
        var edges: [ServiceID: [ServiceID: ServiceStatistics]] = [:]
        var times: [ServiceID: (Double, Double)] = [:]
        for r in rows {
            if let source = r.source {
                edges[source, default: [:]][r.destination, default: .init()].merge(r.statistics)
                if nodes[source] == nil { nodes[source] = .init() }
            } else {
                nodes[r.destination, default: .init()].merge(r.statistics)
            }
            let t = Double(r.minute)
            let span = times[r.destination] ?? (t, t + 60)
            times[r.destination] = (min(span.0, t), max(span.1, t + 60))
        }
        let ordered = nodes.keys.sorted()
        let reference = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, $0) })
        return .array(ordered.map { id in
            let stats = nodes[id] ?? .init()
            let span = times[id] ?? (start, end)
            var m: [(String, WireValue)] = [
                ("ReferenceId", .int(Int64(reference[id]!))), ("Name", .string(id.name)), ("Names", .array([.string(id.name)])),
                ("Root", .bool(roots.contains(id))), ("AccountId", .string(account)),
            ]
            if !id.type.isEmpty { m.append(("Type", .string(id.type))) }
            m += [
                ("State", .string("active")), ("StartTime", .timestamp(max(start, span.0))), ("EndTime", .timestamp(min(end, span.1))),
                ("Edges", .array((edges[id] ?? [:]).sorted { $0.key < $1.key }.compactMap { destination, e in
                    guard let ref = reference[destination] else { return nil }
                    return .map([
                        ("ReferenceId", .int(Int64(ref))), ("StartTime", .timestamp(max(start, span.0))),
                        ("EndTime", .timestamp(min(end, span.1))), ("SummaryStatistics", statistics(e)),
                        ("ResponseTimeHistogram", histogram(e)), ("Aliases", .array([])),
                    ])
                })),
                ("SummaryStatistics", statistics(stats)),
                ("DurationHistogram", histogram(stats)),
                ("ResponseTimeHistogram", histogram(stats)),
            ]
            return .map(m)
        })
    }

    /// A `SamplingRuleRecord`.
    package static func samplingRule(_ r: SamplingRule, region: String, account: String, modified: Double) -> WireValue {
        .map([
            ("SamplingRule", .map([
                ("RuleName", .string(r.name)),
                ("RuleARN", .string("arn:aws:xray:\(region):\(account):sampling-rule/\(r.name)")),
                ("ResourceARN", .string(r.resourceARN)), ("Priority", .int(Int64(r.priority))), ("FixedRate", .double(r.fixedRate)),
                ("ReservoirSize", .int(Int64(r.reservoirSize))), ("ServiceName", .string(r.serviceName)),
                ("ServiceType", .string(r.serviceType)), ("Host", .string(r.host)), ("HTTPMethod", .string(r.httpMethod)),
                ("URLPath", .string(r.urlPath)), ("Version", .int(1)),
                ("Attributes", .map(r.attributes.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ])),
            ("CreatedAt", .timestamp(modified)),
            ("ModifiedAt", .timestamp(modified)),
        ])
    }
}
