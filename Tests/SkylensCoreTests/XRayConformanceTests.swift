import Foundation
import Testing
@testable import SkylensCore

/// The X-Ray cases of `Conformance/formats.json`: section c-xray (documents, ids, names, annotations, the tracing
/// header, daemon datagrams) and section f-xray-filter-expressions (parsing, and evaluation over the shared
/// synthetic traces FMT-F600-traces).
struct XRayConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var id: String
        var section: String
        var kind: String
        var document: AnyJSON?
        var expect_valid: Bool?
        var expect_inferred_segment: AnyJSON?
        var embedded_only: Bool?
        var trace_id: String?
        var segment_id: String?
        var name: String?
        var annotation_key: String?
        var annotation_value: AnyJSON?
        var header_value: String?
        var expect_parsed: [String: String]?
        var datagram: String?
        var expect_accepted: Bool?
        var expression: String?
        var expect_parse: Bool?
        var expect_matching_traces: [String]?
        var testDescription: String { "\(id) \(kind)" }
    }

    /// A case of another section may use the same field names with other types: those decode to nil.
    struct Lenient: Decodable {
        var value: Case?
        init(from decoder: any Decoder) throws { value = try? Case(from: decoder) }
    }

    /// Any JSON value, kept as its text so Core's own parser reads it.
    struct AnyJSON: Decodable, Sendable {
        var text: String
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(JSONAny.self)
            text = String(decoding: try JSONSerialization.data(withJSONObject: value.value, options: [.fragmentsAllowed]), as: UTF8.self)
        }
        var json: JSONValue { try! JSONValue.parse(text) }
    }

    struct JSONAny: Decodable {
        var value: Any
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { value = b }
            else if let n = try? c.decode(Double.self) { value = n }
            else if let s = try? c.decode(String.self) { value = s }
            else if let a = try? c.decode([JSONAny].self) { value = a.map(\.value) }
            else if let o = try? c.decode([String: JSONAny].self) { value = o.mapValues(\.value) }
            else { value = NSNull() }
        }
    }

    static let all: [Case] = {
        guard let url = Bundle.module.url(forResource: "formats", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let all = try? JSONDecoder().decode([Lenient].self, from: data)
        else { return [] }
        return all.compactMap(\.value).filter { $0.section == "c-xray" || $0.section == "f-xray-filter-expressions" }
    }()

    static func cases(_ kinds: String...) -> [Case] { all.filter { kinds.contains($0.kind) } }

    /// The documents' trace ids are from 2016-2017: each is judged as of an hour after its trace id's time.
    static func now(_ traceID: String?) -> Int64 {
        (traceID.flatMap(TraceIdentifiers.epochSeconds(ofTraceID:)) ?? 1_484_900_000) + 3600
    }

    @Test func corpusIsLoaded() {
        #expect(Self.cases("valid-document").count == 5)
        #expect(Self.cases("filter-evaluation").count == 9)
        #expect(Self.cases("filter-expression").count == 12)
        #expect(Self.cases("daemon-datagram").count == 5)
    }

    @Test(arguments: cases("valid-document"))
    func document(_ c: Case) throws {
        let doc = try #require(c.document).json
        if doc["trace_id"] != nil {
            let segment = try Segment.parse(doc, nowSeconds: Self.now(doc["trace_id"]?.string))
            #expect((c.expect_valid ?? false) == true)
            #expect(segment.id == doc["id"]?.string)
            return
        }
        // A subsegment shown on its own (embedded in practice): validate it inside a segment.
        let traceID = c.expect_inferred_segment?.json["trace_id"]?.string ?? "1-581cf771-a006649127e371903a2de979"
        let wrapper = JSONValue.object([
            ("name", .string("caller")), ("id", .string("aaaaaaaaaaaaaaaa")), ("trace_id", .string(traceID)),
            ("start_time", .number(doc["start_time"]!.number! - 1)), ("end_time", .number(doc["end_time"]!.number! + 1)),
            ("subsegments", .array([doc])),
        ])
        let segment = try Segment.parse(wrapper, nowSeconds: Self.now(traceID))
        #expect(segment.subsegments.count == 1)
        guard let expected = c.expect_inferred_segment?.json else { return }
        let trace = TraceAssembler.assemble(id: traceID, documents: [segment])
        let inferred = try #require(trace.segments.first { $0.inferred })
        #expect(inferred.name == expected["name"]?.string)
        #expect(inferred.traceID == expected["trace_id"]?.string)
        #expect(inferred.parentID == expected["parent_id"]?.string)
        #expect(inferred.startTime == expected["start_time"]?.number)
        #expect(inferred.endTime == expected["end_time"]?.number)
        #expect(inferred.http.method == expected["http"]?["request"]?["method"]?.string)
        #expect(inferred.http.url == expected["http"]?["request"]?["url"]?.string)
        #expect(inferred.http.status.map(Double.init) == expected["http"]?["response"]?["status"]?.number)
        #expect(TraceIdentifiers.isValidSegmentID(inferred.id) && inferred.id != segment.subsegments[0].id)
    }

    @Test(arguments: cases("trace-id"))
    func traceID(_ c: Case) throws {
        let id = try #require(c.trace_id)
        // Upper-case hex is undocumented (expect_valid null): Skylens rejects it, as SDKs never send it.
        #expect(TraceIdentifiers.isValidTraceID(id) == (c.expect_valid ?? false))
    }

    @Test(arguments: cases("segment-id"))
    func segmentID(_ c: Case) throws {
        #expect(TraceIdentifiers.isValidSegmentID(try #require(c.segment_id)) == c.expect_valid)
    }

    @Test(arguments: cases("segment-name"))
    func segmentName(_ c: Case) throws {
        #expect(TraceIdentifiers.isValidName(try #require(c.name)) == c.expect_valid)
    }

    @Test(arguments: cases("annotation-key"))
    func annotationKey(_ c: Case) throws {
        #expect(TraceIdentifiers.isValidAnnotationKey(try #require(c.annotation_key)) == c.expect_valid)
    }

    @Test(arguments: cases("annotation-value"))
    func annotationValue(_ c: Case) throws {
        #expect((AnnotationValue(try #require(c.annotation_value).json) != nil) == c.expect_valid)
    }

    @Test(arguments: cases("tracing-header"))
    func tracingHeader(_ c: Case) throws {
        #expect(TraceIdentifiers.parseTracingHeader(try #require(c.header_value)) == c.expect_parsed)
    }

    @Test(arguments: cases("daemon-datagram"))
    func datagram(_ c: Case) throws {
        let bytes = Array(try #require(c.datagram).utf8)
        let accepted = bytes.withUnsafeBytes { buffer -> Bool in
            guard case .success(let body) = DaemonDatagram.document(buffer) else { return false }
            let traceID = (try? JSONValue.parse(body))?["trace_id"]?.string
            return (try? Segment.parse(body, nowSeconds: Self.now(traceID))) != nil
        }
        #expect(accepted == c.expect_accepted)
    }

    /// The headers the SDKs send verbatim (taken without parsing) and others the daemon also reads.
    @Test(arguments: [
        (#"{"format":"json","version":1}"#, true), (#"{"format": "json", "version": 1}"#, true),
        (#"{ "version": 1, "format": "JSON" }"#, true), (#"{"format":"json","version":2}"#, false),
        (#"{"format":"json","version":1"#, false), (#"{"format":"xml","version":1}"#, false),
    ])
    func datagramHeader(_ header: String, _ accepted: Bool) {
        let bytes = Array((header + "\n{\"id\":1}").utf8)
        let result = bytes.withUnsafeBytes { DaemonDatagram.document($0).map { Array($0) } }
        #expect((try? result.get()) == (accepted ? Array(#"{"id":1}"#.utf8) : nil), "\(header)")
    }

    @Test(arguments: cases("filter-expression"))
    func filterExpressionParses(_ c: Case) throws {
        let text = try #require(c.expression)
        let parsed = Result { () throws(FilterExpressionError) in try FilterExpression.parse(text) }
        if case .failure(let e) = parsed { Issue.record("\(text): \(e)") }
        #expect((try? parsed.get()) != nil || c.expect_parse == false)
    }

    @Test(arguments: cases("filter-evaluation"))
    func filterEvaluation(_ c: Case) throws {
        let expression = try FilterExpression.parse(try #require(c.expression))
        let traces = try Self.fixtureTraces()
        let matching = traces.filter { expression.matches($0.value) }.map(\.key).sorted()
        #expect(matching == c.expect_matching_traces?.sorted())
    }

    /// FMT-F600-traces as ``TraceFacts``.
    static func fixtureTraces() throws -> [String: TraceFacts] {
        let url = try #require(Bundle.module.url(forResource: "formats", withExtension: "json", subdirectory: "Conformance"))
        let corpus = try JSONValue.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        let fixture = try #require(corpus.array?.first { $0["id"]?.string == "FMT-F600-traces" })
        guard case .object(let traces)? = fixture["traces"] else { throw FixtureError() }
        var out: [String: TraceFacts] = [:]
        for (name, t) in traces {
            let services = (t["services"]?.array ?? []).map {
                ServiceFacts(id: ServiceID(name: $0["name"]!.string!, type: $0["type"]!.string!), root: $0["root"] == .bool(true),
                             error: $0["error"] == .bool(true), fault: $0["fault"] == .bool(true))
            }
            func service(_ name: String) -> ServiceID { services.first { $0.id.name == name }!.id }
            let edges = (t["edges"]?.array ?? []).map {
                EdgeFacts(source: service($0["source"]!.string!), destination: service($0["destination"]!.string!),
                          error: $0["error"] == .bool(true), fault: $0["fault"] == .bool(true))
            }
            var annotations: [TraceAnnotation] = []
            if case .object(let members)? = t["annotations"] {
                annotations = members.map { TraceAnnotation(key: $0.0, value: AnnotationValue($0.1)!, services: []) }
            }
            let http = t["http"]
            let root = services.first { $0.root }
            out[name] = TraceFacts(
                id: name, duration: t["duration"]!.number!, responseTime: t["responsetime"]?.number,
                http: SegmentHTTP(method: http?["method"]?.string, url: http?["url"]?.string, status: http?["status"]?.number.map { Int($0) }),
                hasError: root?.error ?? false, hasFault: root?.fault ?? false, isPartial: t["partial"] == .bool(true),
                users: t["user"]?.string.map { [$0] } ?? [], annotations: annotations, services: services, edges: edges)
        }
        return out
    }

    struct FixtureError: Error {}
}
