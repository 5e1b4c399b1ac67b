import Foundation
import SkylensServer
import SkylensTesting
import Testing

/// X-Ray end to end on real sockets: PutTraceSegments (with unprocessed documents), UDP datagrams to the daemon
/// port, stitching across both, BatchGetTraces, GetTraceSummaries with filter expressions and paging,
/// GetServiceGraph with edge counts, sampling rules on the daemon port's TCP side, and logs linked to traces.
struct XRayIntegrationTests {
    static let now = Date().timeIntervalSince1970.rounded(.down)
    static let traceID = "1-\(String(Int(now), radix: 16))-a006649127e371903a2de979"

    func post(_ c: TestCollector, _ path: String, _ body: Any, port: Int? = nil) async throws -> RawResponse {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await c.post(path: path, body: String(decoding: data, as: UTF8.self), port: port)
    }

    static func document(_ fields: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
    }

    /// api (root, 200) calls backend (fault) through subsegment 1111…; backend streams a subsegment; api calls DynamoDB.
    static var documents: (api: String, backend: String, query: String) {
        let t = now
        return (
            document(["trace_id": traceID, "id": "a000000000000001", "name": "api", "origin": "AWS::EC2::Instance",
                      "start_time": t, "end_time": t + 1.0, "annotations": ["customer": "c42"], "user": "alice",
                      "http": ["request": ["method": "GET", "url": "https://api/x"], "response": ["status": 200]],
                      "subsegments": [
                        ["id": "1111111111111111", "name": "backend", "namespace": "remote", "start_time": t + 0.1, "end_time": t + 0.6,
                         "fault": true, "http": ["request": ["traced": true], "response": ["status": 500]]],
                        ["id": "2222222222222222", "name": "DynamoDB", "namespace": "aws", "start_time": t + 0.7, "end_time": t + 0.8],
                      ]]),
            document(["trace_id": traceID, "id": "b000000000000001", "parent_id": "1111111111111111", "name": "backend",
                      "start_time": t + 0.15, "end_time": t + 0.55, "fault": true, "http": ["response": ["status": 500]]]),
            document(["trace_id": traceID, "id": "c000000000000001", "type": "subsegment", "parent_id": "b000000000000001",
                      "name": "query", "start_time": t + 0.2, "end_time": t + 0.3, "fault": true])
        )
    }

    @Test func segmentsFromTheAPIAndTheDaemonAreStitchedIntoOneTrace() async throws {
        try await TestCollector.with { c in
            let docs = Self.documents
            // The API: the root segment, and one invalid document reported back, not stored.
            let put = try await post(c, "/TraceSegments", ["TraceSegmentDocuments": [docs.api, #"{"id":"zz","name":"x"}"#]])
            #expect(put.status == 200)
            let unprocessed = put.json["UnprocessedTraceSegments"] as? [[String: Any]]
            #expect(unprocessed?.count == 1)
            #expect(unprocessed?.first?["Id"] as? String == "zz")
            #expect(unprocessed?.first?["ErrorCode"] as? String == "MissingTraceId")
            // The daemon: the downstream segment and an independent subsegment, plus a datagram the daemon drops.
            for body in [docs.backend, docs.query] {
                try sendDatagram(Array(("{\"format\": \"json\", \"version\": 1}\n" + body).utf8), port: c.collector.xrayPort)
            }
            try sendDatagram(Array("{\"format\":\"xml\",\"version\":1}\n{}".utf8), port: c.collector.xrayPort)

            let trace = try await eventually("the trace has all three documents") { () -> [String: Any]? in
                let r = try await post(c, "/Traces", ["TraceIds": [Self.traceID]])
                let t = (r.json["Traces"] as? [[String: Any]])?.first
                return (t?["Segments"] as? [Any])?.count == 3 ? t : nil
            }
            let segments = trace["Segments"] as? [[String: Any]] ?? []
            #expect(Set(segments.compactMap { $0["Id"] as? String }) == ["a000000000000001", "b000000000000001", "c000000000000001"])
            #expect(segments.first { $0["Id"] as? String == "b000000000000001" }?["Document"] as? String == docs.backend)
            #expect((trace["Duration"] as? Double).map { abs($0 - 1.0) < 1e-6 } == true)

            // Summaries and filter expressions.
            func summaries(_ filter: String?) async throws -> RawResponse {
                var body: [String: Any] = ["StartTime": Self.now - 60, "EndTime": Self.now + 60]
                if let filter { body["FilterExpression"] = filter }
                return try await post(c, "/TraceSummaries", body)
            }
            let all = try await summaries(nil).json["TraceSummaries"] as? [[String: Any]] ?? []
            #expect(all.count == 1)
            let summary = try #require(all.first)
            #expect(summary["HasFault"] as? Bool == false)
            #expect(summary["IsPartial"] as? Bool == false)
            #expect((summary["Http"] as? [String: Any])?["HttpStatus"] as? Int == 200)
            #expect(Set((summary["ServiceIds"] as? [[String: Any]] ?? []).compactMap { $0["Name"] as? String }) == ["api", "backend", "DynamoDB"])
            let annotation = ((summary["Annotations"] as? [String: Any])?["customer"] as? [[String: Any]])?.first
            #expect((annotation?["AnnotationValue"] as? [String: Any])?["StringValue"] as? String == "c42")
            let rootCause = (summary["FaultRootCauses"] as? [[String: Any]])?.first?["Services"] as? [[String: Any]]
            #expect(rootCause?.compactMap { $0["Name"] as? String } == ["api", "backend"])
            for (filter, expected) in [
                ("annotation.customer = \"c42\"", 1), ("annotation.customer = \"c43\"", 0), ("service(\"backend\") { fault }", 1),
                ("edge(\"api\", \"backend\") { fault }", 1), ("fault", 0), ("ok AND user = \"alice\"", 1),
                ("rootcause.fault.service { name = \"backend\" }", 1), ("responsetime > 5", 0),
            ] {
                let r = try await summaries(filter)
                #expect((r.json["TraceSummaries"] as? [Any])?.count == expected, "\(filter): \(r.text)")
            }
            let bad = try await summaries("responsetime >")
            #expect(bad.status == 400)
            #expect(bad.header("x-amzn-ErrorType") == "InvalidRequestException")

            // The service map: api → backend with one fault, api → DynamoDB (inferred).
            let graph = try await post(c, "/ServiceGraph", ["StartTime": Self.now - 60, "EndTime": Self.now + 60])
            let services = graph.json["Services"] as? [[String: Any]] ?? []
            let api = try #require(services.first { $0["Name"] as? String == "api" })
            #expect(api["Root"] as? Bool == true)
            let references = Dictionary(uniqueKeysWithValues: services.map { ($0["ReferenceId"] as? Int ?? -1, $0["Name"] as? String ?? "") })
            let edges = api["Edges"] as? [[String: Any]] ?? []
            #expect(Set(edges.compactMap { references[$0["ReferenceId"] as? Int ?? -1] }) == ["backend", "DynamoDB"])
            let toBackend = edges.first { references[$0["ReferenceId"] as? Int ?? -1] == "backend" }?["SummaryStatistics"] as? [String: Any]
            #expect((toBackend?["FaultStatistics"] as? [String: Any])?["TotalCount"] as? Int == 1)
            #expect(toBackend?["TotalCount"] as? Int == 1)
            #expect(services.first { $0["Name"] as? String == "DynamoDB" }?["Type"] as? String == "AWS::DynamoDB")

            // The same counts per time bucket, for an edge and for a service.
            let edgeSeries = try await post(c, "/TimeSeriesServiceStatistics", [
                "StartTime": Self.now - 120, "EndTime": Self.now + 120, "Period": 60,
                "EntitySelectorExpression": "edge(\"api\", \"backend\")"])
            let points = edgeSeries.json["TimeSeriesServiceStatistics"] as? [[String: Any]] ?? []
            #expect(points.count == 1)
            let edgeStats = points.first?["EdgeSummaryStatistics"] as? [String: Any]
            #expect((edgeStats?["FaultStatistics"] as? [String: Any])?["TotalCount"] as? Int == 1)
            #expect(points.first?["Timestamp"] as? Double == (Self.now / 60).rounded(.down) * 60)
            let serviceSeries = try await post(c, "/TimeSeriesServiceStatistics", [
                "StartTime": Self.now - 120, "EndTime": Self.now + 120, "EntitySelectorExpression": "service(\"api\")"])
            let serviceStats = (serviceSeries.json["TimeSeriesServiceStatistics"] as? [[String: Any]])?.first?["ServiceSummaryStatistics"] as? [String: Any]
            #expect(serviceStats?["OkCount"] as? Int == 1)
            #expect(try await post(c, "/TimeSeriesServiceStatistics", ["StartTime": Self.now, "EndTime": Self.now + 1,
                                                                       "EntitySelectorExpression": "annotation.x = 1"]).status == 400)

            // Time-range types: by the trace id's time, any segment's time, or the root segment's.
            for (range, start, expected) in [("TraceId", Self.now - 1, 1), ("Event", Self.now + 0.5, 1), ("Service", Self.now + 0.5, 0),
                                             ("Bogus", Self.now, -1)] {
                let r = try await post(c, "/TraceSummaries", ["StartTime": start, "EndTime": Self.now + 60, "TimeRangeType": range])
                if expected < 0 {
                    #expect(r.status == 400)
                } else {
                    #expect((r.json["TraceSummaries"] as? [Any])?.count == expected, "\(range)")
                }
            }
        }
    }

    /// A downstream segment sent to the daemon waits for its trace's root; a root stored through PutTraceSegments
    /// releases it (the wait's limit is an hour here, so only the root can).
    @Test func aRootPutThroughTheAPIReleasesDocumentsTheDaemonHolds() async throws {
        try await TestCollector.with(configure: { $0.xrayHoldLimit = .seconds(3600) }) { c in
            let docs = Self.documents
            try sendDatagram(Array(("{\"format\": \"json\", \"version\": 1}\n" + docs.backend).utf8), port: c.collector.xrayPort)
            _ = try await eventually("the downstream segment held") { () -> Bool? in
                let xray = try await c.get("/_skylens/health").json["xray"] as? [String: Any]
                return xray?["documentsHeld"] as? Int == 1 ? true : nil
            }
            #expect(try await post(c, "/TraceSegments", ["TraceSegmentDocuments": [docs.api]]).status == 200)
            let ids = try await eventually("the trace has both documents") { () -> [String]? in
                let r = try await post(c, "/Traces", ["TraceIds": [Self.traceID]])
                let segments = (r.json["Traces"] as? [[String: Any]])?.first?["Segments"] as? [[String: Any]] ?? []
                return segments.count == 2 ? segments.compactMap { $0["Id"] as? String } : nil
            }
            #expect(Set(ids) == ["a000000000000001", "b000000000000001"])
        }
    }

    @Test func theDaemonPortServesSamplingRules() async throws {
        try await TestCollector.with { c in
            let rules = try await post(c, "/GetSamplingRules", [String: Any](), port: c.collector.xrayPort)
            let records = rules.json["SamplingRuleRecords"] as? [[String: Any]] ?? []
            let rule = records.last?["SamplingRule"] as? [String: Any]
            #expect(rule?["RuleName"] as? String == "Default")
            #expect(rule?["FixedRate"] as? Double == 0.05)
            #expect(rule?["ReservoirSize"] as? Int == 1)
            let targets = try await post(c, "/SamplingTargets", ["SamplingStatisticsDocuments": [
                ["RuleName": "Default", "ClientID": "abc", "Timestamp": Self.now, "RequestCount": 3, "SampledCount": 1, "BorrowCount": 0],
                ["RuleName": "nope", "ClientID": "abc", "Timestamp": Self.now, "RequestCount": 1, "SampledCount": 0, "BorrowCount": 0],
            ]], port: c.collector.xrayPort)
            let docs = targets.json["SamplingTargetDocuments"] as? [[String: Any]] ?? []
            #expect(docs.first?["ReservoirQuota"] as? Int == 1)
            #expect(docs.first?["Interval"] as? Int == 10)
            #expect((targets.json["UnprocessedStatistics"] as? [[String: Any]])?.first?["RuleName"] as? String == "nope")
        }
    }

    @Test func logEventsNamingATraceAreLinkedToIt() async throws {
        try await TestCollector.with { c in
            _ = try await c.post(target: "Logs_20140328.CreateLogGroup", body: #"{"logGroupName":"/aws/lambda/fn"}"#)
            _ = try await c.post(target: "Logs_20140328.CreateLogStream", body: #"{"logGroupName":"/aws/lambda/fn","logStreamName":"s"}"#)
            let ms = Int64(Self.now * 1000)
            let put = try await c.post(target: "Logs_20140328.PutLogEvents", body: """
                {"logGroupName":"/aws/lambda/fn","logStreamName":"s","logEvents":[
                 {"timestamp":\(ms),"message":"{\\"level\\":\\"INFO\\",\\"xray_trace_id\\":\\"\(Self.traceID)\\"}"},
                 {"timestamp":\(ms + 1),"message":"no trace here 1-2"}]}
                """)
            #expect(put.status == 200, "\(put.text)")
            let refs = try await c.collector.traces.logReferences(traceIDs: [Self.traceID])
            #expect(refs.map(\.first) == [ms] && refs.map(\.last) == [ms])
            #expect(refs.first?.logGroup == "/aws/lambda/fn")
        }
    }
}
