import Testing
@testable import SkylensCore

/// Trace assembly, one adjuster per concern, and the summary facts computed from the result.
struct TraceAssemblyTests {
    static let trace = "1-5759e988-bd862e3fe1be46a994272793"
    static let now: Int64 = 1_465_500_000

    static func segment(_ json: String) throws -> Segment {
        try Segment.parse(JSONValue.parse(json), nowSeconds: now)
    }

    /// Annotations as X-Ray keeps them: string, number and boolean values; the last of duplicate keys wins (and comes
    /// last); a key of other characters, a value of another type, or annotations that are not an object are refused
    /// (the first problem in the document names its key).
    @Test func annotationsAreReadIntoPairs() throws {
        let base = #""trace_id":"\#(Self.trace)","id":"a000000000000001","name":"x","start_time":100,"end_time":101"#
        func parse(_ annotations: String) -> Result<Segment, SegmentError> {
            Array("{\(base),\"annotations\":\(annotations)}".utf8).withUnsafeBytes { bytes in
                Result { () throws(SegmentError) in try Segment.parse(bytes, nowSeconds: Self.now) }
            }
        }
        let read = try parse(#"{"a":1,"s":"v","b":true,"a":"x"}"#).get().annotations
        #expect(read.map(\.key) == ["s", "b", "a"])
        #expect(read.map(\.value) == [.string("v"), .bool(true), .string("x")])
        #expect(try parse("{}").get().annotations.isEmpty)
        for (annotations, message) in [
            (#"[1]"#, "annotations is an object of keys to values."),
            (#"{"ok":1,"bad key":{},"c":[]}"#, #"Annotation key "bad key": keys are letters, digits and underscores."#),
            (#"{"ok":1,"c":[],"bad key":2}"#, "Annotation c: values are strings, numbers or booleans."),
            (#"{"n":null}"#, "Annotation n: values are strings, numbers or booleans."),
        ] {
            guard case .failure(let error) = parse(annotations) else {
                Issue.record("accepted: \(annotations)")
                continue
            }
            #expect(error.code == "InvalidAnnotations" && error.message == message, "\(annotations)")
        }
    }

    /// A trace key's time is the id's: its first 8 hex digits, as epoch seconds.
    @Test(arguments: ["1-5759e988-bd862e3fe1be46a994272793", "1-00000000-000000000000000000000000", "1-ffffffff-ffffffffffffffffffffffff",
                      "1-6b49d200-a006649127e371903a2de979"])
    func traceKeysKeepTheIDsTime(_ id: String) throws {
        let key = try #require(TraceKey(id))
        #expect(key.epochSeconds == TraceIdentifiers.epochSeconds(ofTraceID: id))
    }

    /// A document carries what the store routes it by: its trace id, its start in milliseconds, and whether it is a
    /// top-level segment linked to another trace (a link within its own trace, or a subsegment's link, is not).
    @Test func documentsCarryTheirRoutingFields() throws {
        let other = "1-5759e988-000000000000000000000001"
        func document(_ members: String) throws -> SegmentDocument {
            let json = #"{"trace_id":"\#(Self.trace)","id":"a000000000000001","name":"c","start_time":100.25,"end_time":101,\#(members)}"#
            return SegmentDocument(segment: try Self.segment(json), text: json)
        }
        let linked = try document(#""links":[{"trace_id":"\#(other)","id":"b000000000000001"}]"#)
        #expect(linked.traceID == Self.trace)
        #expect(linked.startMillis == 100_250)
        #expect(linked.linksAnotherTrace)
        #expect(try !document(#""links":[{"trace_id":"\#(Self.trace)","id":"b000000000000001"}]"#).linksAnotherTrace)
        #expect(try !document(#""parent_id":"c000000000000001","links":[{"trace_id":"\#(other)","id":"b000000000000001"}]"#).linksAnotherTrace)
        #expect(try !document(#""annotations":{"k":1}"#).linksAnotherTrace)
    }

    /// api (EC2) → calls backend over HTTP (subsegment 1111…, downstream segment sent by backend, 0.2 s clock skew)
    /// and DynamoDB (no segment: inferred); backend streams one subsegment independently.
    static func documents() throws -> [Segment] {
        [
            try segment("""
            {"trace_id":"\(trace)","id":"a000000000000001","name":"api","origin":"AWS::EC2::Instance",
             "start_time":100.0,"end_time":101.0,"http":{"request":{"method":"GET","url":"https://api/x"},"response":{"status":200}},
             "annotations":{"customer":"c42","tier":2},"user":"alice",
             "subsegments":[
               {"id":"1111111111111111","name":"backend","namespace":"remote","start_time":100.1,"end_time":100.6,
                "http":{"request":{"traced":true},"response":{"status":500}},"fault":true},
               {"id":"2222222222222222","name":"DynamoDB","namespace":"aws","start_time":100.7,"end_time":100.8,
                "aws":{"operation":"GetItem"}}]}
            """),
            // The backend's clock runs 0.2 s ahead: its segment would start before the caller's call ended... after.
            try segment("""
            {"trace_id":"\(trace)","id":"b000000000000001","parent_id":"1111111111111111","name":"backend",
             "start_time":100.35,"end_time":100.75,"fault":true,"http":{"response":{"status":500}},
             "cause":{"exceptions":[{"id":"e000000000000001","type":"KeyError","message":"boom"}]}}
            """),
            try segment("""
            {"trace_id":"\(trace)","id":"c000000000000001","type":"subsegment","parent_id":"b000000000000001","name":"query",
             "start_time":100.4,"in_progress":true}
            """),
            try segment("""
            {"trace_id":"\(trace)","id":"c000000000000001","type":"subsegment","parent_id":"b000000000000001","name":"query",
             "start_time":100.4,"end_time":100.5,"fault":true}
            """),
        ]
    }

    @Test func subsegmentsMergeUnderTheirParentAndCompleteVersionsWin() throws {
        let t = TraceAssembler.assemble(id: Self.trace, documents: try Self.documents())
        let backend = try #require(t.segments.first { $0.id == "b000000000000001" })
        #expect(backend.subsegments.map(\.id) == ["c000000000000001"])
        #expect(backend.subsegments[0].inProgress == false)
        #expect(t.orphans.isEmpty)
    }

    @Test func inferredSegmentOnlyForCallsWithoutTheirOwnSegment() throws {
        let t = TraceAssembler.assemble(id: Self.trace, documents: try Self.documents())
        let inferred = t.segments.filter(\.inferred)
        #expect(inferred.map(\.name) == ["DynamoDB"])
        #expect(inferred[0].parentID == "2222222222222222")
        #expect(ServiceID(inferred[0]) == ServiceID(name: "DynamoDB", type: "AWS::DynamoDB"))
        // Its id is the same in every assembly and every version: FNV-1a of "inferred:" and the subsegment's id.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "inferred:2222222222222222".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        #expect(inferred[0].id == String(repeating: "0", count: 16 - hex.count) + hex)
    }

    @Test func clockSkewMovesTheDownstreamSegmentInsideItsCall() throws {
        let t = TraceAssembler.assemble(id: Self.trace, documents: try Self.documents())
        let backend = try #require(t.segments.first { $0.id == "b000000000000001" })
        // Call 100.1–100.6 (0.5 s), backend 0.4 s: centred at 100.15–100.55, its subsegment moved with it.
        #expect(abs(backend.startTime - 100.15) < 1e-9)
        #expect(abs(backend.endTime! - 100.55) < 1e-9)
        #expect(abs(backend.subsegments[0].startTime - 100.2) < 1e-9)
        #expect(abs((t.skewCorrections["b000000000000001"] ?? 0) + 0.2) < 1e-9)
    }

    @Test func factsDescribeTheTrace() throws {
        let facts = TraceFacts(TraceAssembler.assemble(id: Self.trace, documents: try Self.documents()))
        #expect(facts.duration == 1.0)
        #expect(facts.responseTime == 1.0)
        #expect(facts.http?.status == 200)
        #expect(!facts.hasFault && facts.ok && !facts.isPartial)
        #expect(facts.users == ["alice"])
        #expect(facts.annotations.map(\.key) == ["customer", "tier"])
        #expect(facts.services.map(\.id.name) == ["api", "DynamoDB", "backend"])
        #expect(facts.services[0].root)
        #expect(Set(facts.edges.map { "\($0.source.name)->\($0.destination.name)" }) == ["api->backend", "api->DynamoDB"])
        #expect(facts.edges.first { $0.destination.name == "backend" }?.fault == true)
        // The fault started in the backend's "query" subsegment: the root cause path is api → backend.
        let cause = try #require(facts.faultRootCauses.first)
        #expect(cause.services.map(\.id.name) == ["api", "backend"])
        #expect(cause.services.last?.entityPath.map(\.name) == ["backend", "query"])
        #expect(cause.clientImpacting == false)
        #expect(facts.graph.filter { $0.source != nil }.count == 2)
    }

    @Test func missingParentOrInProgressMakesATracePartial() throws {
        var docs = try Self.documents()
        docs.removeFirst()
        #expect(TraceFacts(TraceAssembler.assemble(id: Self.trace, documents: docs)).isPartial)
        let open = try Self.segment("""
        {"trace_id":"\(Self.trace)","id":"d000000000000001","name":"api","start_time":100.0,"in_progress":true}
        """)
        let t = TraceAssembler.assemble(id: Self.trace, documents: [open])
        #expect(TraceFacts(t).isPartial)
        #expect(TraceFacts(t).responseTime == nil)
    }

    /// Node ids are held inline up to `NodeIndex.linearLimit` and beyond that also in an overflow list, then a hash
    /// table: every id is found, and the first number given an id wins, before and after `finish()`, in every mode.
    @Test(arguments: [3, NodeIndex.linearLimit, NodeIndex.linearLimit + 1, 100])
    func nodeIndexFindsEveryIdWhateverItsSize(_ count: Int) {
        var index = NodeIndex()
        for i in 0..<count { index.add(SegmentKey(value: UInt64(1000 + i)), i) }
        // Each id again with another number (the first wins), and one more id.
        for i in 0..<count { index.add(SegmentKey(value: UInt64(1000 + i)), -1) }
        index.add(SegmentKey(value: 7), 7)
        func check() {
            for i in 0..<count { #expect(index[SegmentKey(value: UInt64(1000 + i))] == i) }
            #expect(index[SegmentKey(value: 7)] == 7)
            #expect(index[SegmentKey(value: 8)] == nil)
        }
        check()
        index.finish()
        check()
    }

    /// A trace with more nodes than the index holds inline: 30 services calling one another in a chain, each sent as
    /// a segment with a subsegment, the subsegments sent independently (merged under their parents by id).
    @Test func aTraceLargerThanTheInlineIndexIsAssembled() throws {
        var docs: [Segment] = []
        func id(_ kind: Int, _ i: Int) -> String {
            let n = String(i + 1, radix: 16)
            return String(kind, radix: 16) + String(repeating: "0", count: 15 - n.count) + n
        }
        for i in 0..<30 {
            let parent = i == 0 ? "" : #","parent_id":"\#(id(0xb, i - 1))""#
            docs.append(try Self.segment(#"{"trace_id":"\#(Self.trace)","id":"\#(id(0xa, i))","name":"svc\#(i)"\#(parent),"start_time":\#(100 + Double(i) * 0.01),"end_time":\#(110 - Double(i) * 0.01)}"#))
        }
        for i in 0..<30 {
            docs.append(try Self.segment(#"{"trace_id":"\#(Self.trace)","id":"\#(id(0xb, i))","type":"subsegment","parent_id":"\#(id(0xa, i))","name":"call\#(i)","namespace":"remote","http":{"request":{"traced":true}},"start_time":\#(100.001 + Double(i) * 0.01),"end_time":\#(109.999 - Double(i) * 0.01)}"#))
        }
        let trace = TraceAssembler.assemble(id: Self.trace, documents: docs)
        #expect(trace.segments.count == 30 && trace.orphans.isEmpty)
        let index = trace.locate()
        for i in 0..<30 {
            #expect(index[id(0xa, i)] == i)
            #expect(index[id(0xb, i)] == i)
        }
        let facts = TraceFacts(trace)
        #expect(!facts.isPartial)
        #expect(facts.edges.count == 29)
        #expect(facts.edges.allSatisfy { e in Int(e.destination.name.dropFirst(3))! == Int(e.source.name.dropFirst(3))! + 1 })
    }

    @Test func spanLinksJoinAnAsyncConsumer() throws {
        var docs = try Self.documents()
        docs.append(try Self.segment("""
        {"trace_id":"1-5759e989-000000000000000000000001","id":"f000000000000001","name":"worker","origin":"AWS::Lambda::Function",
         "start_time":102.0,"end_time":102.5,"links":[{"trace_id":"\(Self.trace)","id":"2222222222222222"}]}
        """))
        let t = TraceAssembler.assemble(id: Self.trace, documents: docs)
        #expect(t.asyncParents["f000000000000001"] == "2222222222222222")
        let facts = TraceFacts(t)
        #expect(facts.edges.contains { $0.source.name == "api" && $0.destination.name == "worker" && $0.async })
        #expect(facts.linkedTraceIDs == ["1-5759e989-000000000000000000000001"])
        #expect(facts.duration == 2.5)
    }

    @Test func invalidDocumentsAreRefusedWithAReason() throws {
        func code(_ json: String) -> String? {
            do { _ = try Self.segment(json); return nil } catch { return (error as? SegmentError)?.code }
        }
        let t = Self.trace
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1}"#) == "MissingEndTime")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2,"in_progress":true}"#) == "InvalidEndTime")
        #expect(code(#"{"trace_id":"\#(t)","id":"A000000000000001","name":"x","start_time":1,"end_time":2}"#) == "InvalidId")
        #expect(code(#"{"trace_id":"1-00000001-000000000000000000000001","id":"a000000000000001","name":"x","start_time":1,"end_time":2}"#) == "InvalidTraceId")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"bad!","start_time":1,"end_time":2}"#) == "InvalidName")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2,"annotations":{"a":[1]}}"#) == "InvalidAnnotations")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","type":"subsegment","name":"x","start_time":1,"end_time":2}"#) == "MissingParentId")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2,"subsegments":[{"id":"zz"}]}"#) == "InvalidId")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1.5e0,"end_time":2.0E0}"#) == nil)
        // A member of the wrong type is one missing, except end_time, which is refused when present but not a number.
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":7,"start_time":1,"end_time":2}"#) == "MissingName")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":"1","end_time":2}"#) == "InvalidStartTime")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":null}"#) == "InvalidEndTime")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":"2"}"#) == "InvalidEndTime")
        #expect(code(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"in_progress":"true"}"#) == "MissingEndTime")
        let flags = try Self.segment(#"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2,"fault":1,"error":"true","throttle":true}"#)
        #expect(!flags.fault && !flags.error && flags.throttle)
        let big = #"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2,"metadata":{"m":"\#(String(repeating: "x", count: 65_536))"}}"#
        let tooLarge = Array(big.utf8).withUnsafeBytes { bytes in
            Result { () throws(SegmentError) in try Segment.parse(bytes, nowSeconds: Self.now) }
        }
        #expect((try? tooLarge.get()) == nil)
        if case .failure(let e) = tooLarge { #expect(e.code == "DocumentTooLarge") }
    }

    /// Documents from the daemon and PutTraceSegments are read straight from their bytes; elsewhere (and in these
    /// tests) from a value tree. Both readings give the same segment, or refuse with the same code.
    @Test func documentsReadFromBytesAsFromATree() throws {
        let t = Self.trace
        let base = #""trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2"#
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let documents = [
            #"{\#(base)}"#,
            // Escaped member names, duplicates (the last wins), and members the store does not keep.
            #"{"trace_id":"\#(t)","\u0069d":"a000000000000001","name":"x","name":"y","start_time":1,"end_time":2}"#,
            #"{\#(base),"metadata":{"a":[1,{"b":"\"x\\y\u00e9"}],"c":null,"d":true},"sql":{"query":"select"}}"#,
            #"{\#(base),"metadata":{"\u0061b":{"c":{}},"d":[{}],"e\n":{"f":"g"}}}"#,
            #"{\#(base),"annotations":{"k":"v","k":2,"n":1.5e3},"http":{"request":{"method":"GET","url":"u"},"response":{"status":503}}}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2,"subsegments":[{"id":"c000000000000001","name":"t","start_time":1.15,"end_time":1.16,"namespace":"aws"}]}]}"#,
            #"{\#(base),"http":{"request":{"method":"GET","url":"a"},"request":{"url":"b","traced":true,"x":{"y":[1]}},"response":{"status":201,"content_length":3}}}"#,
            #"{\#(base),"http":{"request":{"method":"GET"},"request":"later","response":{"status":200},"response":{}}}"#,
            #"{\#(base),"http":{"request":{"method":1,"user_agent":"ua","client_ip":"10.0.0.1"},"response":{"status":"200"}}}"#,
            #"{\#(base),"http":"GET /","aws":{"operation":"GetItem","table_name":"t","operation":"PutItem"}}"#,
            #"{\#(base),"aws":{"operation":7}}"#,
            #"{\#(base),"aws":["operation"]}"#,
            #"{\#(base),"subsegments":[]}"#,
            #"{\#(base),"subsegments":{}}"#,
            #"{\#(base),"subsegments":[1]}"#,
            #"{\#(base),"subsegments":[{"id":"zz"}]}"#,
            #"{\#(base),"subsegments":[{"id":7,"name":"s","start_time":1.1,"end_time":1.2}]}"#,
            // Subsegments are made as they are read when the trace id comes first, else afterwards; a trace id read
            // after them (or again) is the one they carry and are checked against; the document's own refusal comes
            // before its subsegments'.
            #"{"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}],\#(base)}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}],"trace_id":"1-5759e988-0000000000000000000000ff"}"#,
            #"{\#(base),"subsegments":[{"trace_id":"\#(t)","id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}],"trace_id":"1-5759e988-0000000000000000000000ff"}"#,
            #"{\#(base),"subsegments":[{"trace_id":"\#(t)","id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}]}"#,
            #"{\#(base),"subsegments":[{"trace_id":"1-5759e988-0000000000000000000000ff","id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}]}"#,
            #"{"trace_id":"\#(t)","id":"a000000000000001","start_time":1,"end_time":2,"subsegments":[{"id":"zz"}]}"#,
            #"{"trace_id":"\#(t)","subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}],"id":"a000000000000001","name":"x","start_time":1,"end_time":2}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2}],"id":"a000000000000002"}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","parent_id":"c000000000000001","name":"s","start_time":1.1,"end_time":1.2}]}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2,"subsegments":[{"id":"c000000000000001","name":"t","start_time":1.15}]}]}"#,
            #"{\#(base),"parent_id":"B000000000000001"}"#,
            #"{\#(base),"parent_id":7}"#,
            #"{\#(base),"parent_id":"b00000000000000\u0031"}"#,
            #"{\#(base),"origin":"AWS::EC2::Instance"}"#,
            #"{\#(base),"origin":"AWS::EC2::Instanc"}"#,
            #"{\#(base),"origin":"AWS::EC2::Instance2"}"#,
            #"{\#(base),"origin":"AWS::EC2::Instanc\u0065"}"#,
            #"{\#(base),"origin":7}"#,
            #"{\#(base),"type":"segment"}"#,
            #"{\#(base),"type":"subsegment"}"#,
            #"{\#(base),"type":"subsegment","parent_id":"b000000000000001","links":[{"trace_id":"\#(t)","id":"c000000000000001"}]}"#,
            #"{\#(base),"cause":{"exceptions":[{"id":"e000000000000001","type":"T","message":"m","remote":true}]},"fault":true}"#,
            // Scalar members read straight into their types: a value of another type is one missing (strings,
            // start_time, flags) or refused (end_time, present but not a number), and duplicates still end with the last.
            #"{\#(base),"name":7}"#,
            #"{\#(base),"name":null,"name":"y"}"#,
            #"{\#(base),"namespace":["aws"],"user":{"u":1},"resource_arn":false,"origin":null}"#,
            #"{\#(base),"namespace":"remote","user":"alice","resource_arn":"arn:aws:lambda:x"}"#,
            #"{\#(base),"start_time":"1"}"#,
            #"{\#(base),"start_time":null}"#,
            #"{\#(base),"start_time":"1","start_time": 1.25}"#,
            #"{\#(base),"end_time":"2"}"#,
            #"{\#(base),"end_time":null}"#,
            #"{\#(base),"end_time":[2]}"#,
            #"{\#(base),"end_time":3,"end_time":"3"}"#,
            #"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"in_progress":true}"#,
            #"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"in_progress":"true"}"#,
            #"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"in_progress":true,"in_progress":false}"#,
            #"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":null,"in_progress":true}"#,
            #"{\#(base),"fault": true,"error":1,"throttle":"true"}"#,
            #"{\#(base),"fault":true,"fault":false,"error":false,"error":true,"throttle":null,"throttle":true}"#,
            // Annotations read straight into pairs: types, duplicates (the last wins), and each way of being refused.
            #"{\#(base),"annotations":{"customer":"c42","tier":2,"vip":true,"ratio":-1.5e3,"empty":""}}"#,
            #"{\#(base),"annotations":{"a":1,"b":2,"a":"x"}}"#,
            #"{\#(base),"annotations":{}}"#,
            #"{\#(base),"annotations": { "a" : 1 , "b" : false } }"#,
            #"{\#(base),"annotations":{"a":1},"annotations":{"b":2}}"#,
            #"{\#(base),"annotations":{"a-b":1}}"#,
            #"{\#(base),"annotations":{"ok":1,"bad key":2,"c":{}}}"#,
            #"{\#(base),"annotations":{"a":{"b":1}}}"#,
            #"{\#(base),"annotations":{"a":[1]}}"#,
            #"{\#(base),"annotations":{"a":null}}"#,
            #"{\#(base),"annotations":{"a":null,"b c":1}}"#,
            #"{\#(base),"annotations":[1]}"#,
            #"{\#(base),"annotations":"a"}"#,
            #"{\#(base),"annotations":null}"#,
            #"{\#(base),"annotations":7}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2,"annotations":{"k":"v","n":3}}]}"#,
            #"{\#(base),"subsegments":[{"id":"b000000000000001","name":"s","start_time":1.1,"end_time":1.2,"annotations":{"k":[]}}]}"#,
            #"{"id":"a000000000000001","name":"x","start_time":1,"end_time":2}"#,
            #"[1]"#,
            #""text""#,
        ]
        for json in documents {
            let fromTree = Result { try Self.segment(json) }
            let fromBytes = Array(json.utf8).withUnsafeBytes { bytes in
                Result { () throws(SegmentError) in try Segment.parse(bytes, nowSeconds: Self.now) }
            }
            switch (fromTree, fromBytes) {
            case let (.success(a), .success(b)): #expect(a == b, "\(json)")
            case let (.failure(a), .failure(b)): #expect((a as? SegmentError)?.code == b.code, "\(json)")
            default: Issue.record("read differently: \(json) → \(fromTree) / \(fromBytes)")
            }
        }
        // What is not JSON at all, anywhere in the document, is InvalidDocument.
        for json in [#"{\#(base),"metadata":{"a":tru}}"#, #"{\#(base),"fault":tru}"#, #"{\#(base),"start_time":-}"#,
                     #"{\#(base),"name":[1,]}"#, #"{\#(base),"end_time":nul}"#, #"{\#(base),"metadata":\#(deep)}"#, #"{\#(base)"#, #"{\#(base)} x"#,
                     #"{\#(base),"metadata":{1:2}}"#, #"{\#(base),"metadata":{"a" 1}}"#, #"{\#(base),"metadata":{"a":1,}}"#,
                     #"{\#(base),"metadata":{"\x":1}}"#,
                     #"{\#(base),"annotations":{"a":tru}}"#, #"{\#(base),"annotations":{"a":1,}}"#, #"{\#(base),"annotations":{"a":-}}"#,
                     #"{\#(base),"annotations":{"a":\#(deep)}}"#, #"{\#(base),"annotations":{"a" 1}}"#, #"{\#(base),"annotations":nul}"#,
                     #"{\#(base),"subsegments":[{"id":"b000000000000001",}]}"#,
                     #"{\#(base),"subsegments":[{"id":"b000000000000001","metadata":\#(deep)}]}"#,
                     #"{"subsegments":[{"id":"b000000000000001","metadata":\#(deep)}],\#(base)}"#] {
            let fromBytes = Array(json.utf8).withUnsafeBytes { bytes in
                Result { () throws(SegmentError) in try Segment.parse(bytes, nowSeconds: Self.now) }
            }
            #expect((try? JSONValue.parse(json)) == nil, "\(json)")
            if case .failure(let e) = fromBytes { #expect(e.code == "InvalidDocument", "\(json)") } else { Issue.record("accepted: \(json)") }
        }
        let escaped = try Array(#"{"trace_id":"\#(t)","\u0069d":"a000000000000001","name":"x","name":"y","start_time":1,"end_time":2}"#.utf8)
            .withUnsafeBytes { bytes in try Segment.parse(bytes, nowSeconds: Self.now) }
        #expect(escaped.id == "a000000000000001" && escaped.name == "y")
    }

    /// A segment keeps its ids as numbers and gives them back as text; a parser reading a batch shares one copy of a
    /// trace id between consecutive documents that name it, and only then.
    @Test func idsAreNumbersAndTraceIDsAreSharedOnlyWhenEqual() throws {
        let t = Self.trace, other = "1-5759e988-0000000000000000000000ff"
        let texts = [
            #"{"trace_id":"\#(t)","id":"a000000000000001","name":"x","start_time":1,"end_time":2,"subsegments":[{"id":"b000000000000002","name":"s","start_time":1.1,"end_time":1.2}]}"#,
            #"{"trace_id":"\#(t)","id":"c000000000000003","parent_id":"b000000000000002","name":"y","start_time":1.3,"end_time":1.4}"#,
            #"{"trace_id":"\#(other)","id":"d000000000000004","name":"z","start_time":1,"end_time":2}"#,
            #"{"trace_id":"1-5759e988-0000000000000000000000f\u0066","id":"e000000000000005","name":"z","start_time":1,"end_time":2}"#,
            #"{"trace_id":"\#(t)","id":"f000000000000006","name":"z","start_time":1,"end_time":2}"#,
        ]
        var reuse = TraceIDReuse()
        let segments = try texts.map { text in
            try Array(text.utf8).withUnsafeBytes { bytes in try Segment.parse(bytes, nowSeconds: Self.now, reusing: &reuse) }
        }
        #expect(segments.map(\.traceID) == [t, t, other, other, t])
        #expect(segments.map(\.id) == ["a000000000000001", "c000000000000003", "d000000000000004", "e000000000000005", "f000000000000006"])
        #expect(segments[0].subsegments[0].id == "b000000000000002" && segments[0].subsegments[0].parentID == "a000000000000001")
        #expect(segments[1].parentID == "b000000000000002" && segments[1].parentKey == segments[0].subsegments[0].key)
        #expect(segments[0].parentID == nil)
        // The refused id is reported as sent.
        let refused = Array(#"{"trace_id":"\#(t)","id":"A000000000000001","name":"x","start_time":1,"end_time":2}"#.utf8).withUnsafeBytes { bytes in
            Result { () throws(SegmentError) in try Segment.parse(bytes, nowSeconds: Self.now, reusing: &reuse) }
        }
        if case .failure(let e) = refused { #expect(e.code == "InvalidId" && e.id == "A000000000000001") } else { Issue.record("accepted") }
    }

    /// A run of documents of one trace reads the id's time once, and each document's age is still judged at its own
    /// `now`; an id that differs (an invalid one among them) is read for itself.
    @Test func aTraceIDsTimeIsReadOncePerRunAndJudgedPerDocument() throws {
        let t = Self.trace, seconds = try #require(TraceIdentifiers.epochSeconds(ofTraceID: t))
        var reuse = TraceIDReuse()
        func parse(_ traceID: String, _ now: Int64) -> Result<Segment, SegmentError> {
            Array(#"{"trace_id":"\#(traceID)","id":"a000000000000001","name":"x","start_time":1,"end_time":2}"#.utf8).withUnsafeBytes { bytes in
                Result { () throws(SegmentError) in try Segment.parse(bytes, nowSeconds: now, reusing: &reuse) }
            }
        }
        func code(_ r: Result<Segment, SegmentError>) -> String? { if case .failure(let e) = r { e.code } else { nil } }
        #expect(code(parse(t, seconds)) == nil)
        #expect(code(parse(t, seconds + Segment.maxTraceAgeSeconds)) == nil)
        #expect(code(parse(t, seconds + Segment.maxTraceAgeSeconds + 1)) == "InvalidTraceId")
        #expect(code(parse("1-5759e98g-0000000000000000000000ff", seconds)) == "InvalidTraceId")
        #expect(code(parse(t, seconds)) == nil)
        #expect(code(parse("1-5759E988-0000000000000000000000ff", seconds)) == "InvalidTraceId")
    }

    /// A segment id's value is the number its 16 lower-case hex digits spell, and any other byte anywhere (the
    /// neighbours of the digit ranges, upper case, non-ASCII) makes it invalid: checked against a digit-by-digit
    /// reading over every byte value in every position and random ids.
    @Test func segmentIDsAreTheNumbersTheirDigitsSpell() {
        func reference(_ b: [UInt8]) -> UInt64? {
            guard b.count == 16 else { return nil }
            var v: UInt64 = 0
            for c in b {
                switch c {
                case 0x30...0x39: v = v << 4 | UInt64(c - 0x30)
                case 0x61...0x66: v = v << 4 | UInt64(c - 0x61 + 10)
                default: return nil
                }
            }
            return v
        }
        func value(_ b: [UInt8]) -> UInt64? { b.withUnsafeBytes { TraceIdentifiers.segmentIDValue($0) } }
        var ids: [[UInt8]] = [Array("0123456789abcdef".utf8), Array("fedcba9876543210".utf8), Array("ffffffffffffffff".utf8),
                              Array("0000000000000000".utf8), Array("0123456789abcde".utf8), Array("0123456789abcdef0".utf8)]
        for position in 0..<16 {
            for byte in 0...255 {
                var id = Array("a1b2c3d4e5f60789".utf8)
                id[position] = UInt8(byte)
                ids.append(id)
            }
        }
        var random = FilterPatternFuzzTests.Generator(state: 7)  // deterministic: a failure reproduces
        let digits = Array("0123456789abcdef".utf8)
        for _ in 0..<2_000 { ids.append((0..<16).map { _ in digits[Int.random(in: 0..<16, using: &random)] }) }
        for id in ids { #expect(value(id) == reference(id), "\(id)") }
        #expect(value(Array("a1b2c3d4e5f60789".utf8)) == 0xa1b2_c3d4_e5f6_0789)
    }

    /// A trace key is the id's 32 digits: equal for equal ids only, ordered as the ids (and their packed bytes) are,
    /// and none for an invalid id.
    @Test func traceKeysFollowTheirIDs() throws {
        var ids = ["1-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a994272794", "1-5759e988-bd862e3ff1be46a994272793",
                   "1-5759e989-bd862e3fe1be46a994272793", "1-00000000-000000000000000000000000", "1-ffffffff-ffffffffffffffffffffffff",
                   "1-5759e988-0000000100000000000000ff", "1-5759e988-0000000000000001000000ff"]
        var random = FilterPatternFuzzTests.Generator(state: 42)  // deterministic: a failure reproduces
        for _ in 0..<100 {
            let digits = (0..<32).map { _ in String(Int.random(in: 0..<16, using: &random), radix: 16) }.joined()
            ids.append("1-" + digits.prefix(8) + "-" + digits.dropFirst(8))
        }
        let keys = try ids.map { try #require(TraceKey($0)) }
        for (a, x) in zip(ids, keys) {
            #expect(TraceIdentifiers.traceID(packed: x.packed) == a)
            for (b, y) in zip(ids, keys) {
                #expect((x == y) == (a == b))
                #expect((x < y) == (a < b))
                #expect((x < y) == x.packed.lexicographicallyPrecedes(y.packed))
            }
        }
        for invalid in ["1-5759E988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a99427279", "2-5759e988-bd862e3fe1be46a994272793",
                        "1-5759e988_bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a99427279g", ""] {
            #expect(TraceKey(invalid) == nil)
        }
    }

    @Test func traceIDsAreFoundInLogLines() {
        let line = "REPORT RequestId: 1\tDuration: 2 ms\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 70de5b6f19ff9a0a"
        let json = #"{"level":"INFO","xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793","time":"2026-11-26"}"#
        for text in [line, json, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"] {
            let found = Array(text.utf8).withUnsafeBytes { TraceIdentifiers.traceIDs(in: $0) }
            #expect(found == ["1-5759e988-bd862e3fe1be46a994272793"])
        }
        let none = Array("2026-11-26 11-2aaaaaaa-bbb x1-5759e988-bd862e3fe1be46a994272793".utf8).withUnsafeBytes { TraceIdentifiers.traceIDs(in: $0) }
        #expect(none.isEmpty)
        // A batch of messages end to end: ids are found per message, and never across a boundary.
        let id = "1-5759e988-bd862e3fe1be46a994272793"
        let messages = ["no id here a", id + " starts this one", "split 1-5759e988-bd862e3f", "e1be46a994272793 end", "twice \(id) \(id)"]
        var bytes: [UInt8] = [], offsets = [0]
        for m in messages { bytes += Array(m.utf8); offsets.append(bytes.count) }
        var hits: [Int] = []
        bytes.withUnsafeBytes { all in
            TraceIdentifiers.forEachTraceID(in: all, messageOffsets: offsets) { i, found in
                #expect(found == id)
                hits.append(i)
            }
        }
        #expect(hits == [1, 4, 4])
    }
}

/// Filter expressions beyond the conformance corpus: errors, service/edge scopes, root causes, index terms.
struct FilterExpressionTests {
    @Test(arguments: [
        "responsetime >", "responsetime > \"x\"", "http.url > 5", "fault = 1", "service(", "edge(\"a\")", "annotation.a-b = 1",
        "bogus", "responsetime > 5 AND", "(ok", "rootcause.fault.bogus { name = \"x\" }", "rootcause.fault.service", "ok ok",
        "service() { user = \"x\" }", "\"unterminated", "name = \"x\"",
    ])
    func invalidExpressionsAreErrors(_ text: String) {
        #expect(throws: FilterExpressionError.self) { try FilterExpression.parse(text) }
    }

    @Test func evaluatesOverAssembledTraces() throws {
        let facts = TraceFacts(TraceAssembler.assemble(id: TraceAssemblyTests.trace, documents: try TraceAssemblyTests.documents()))
        func matches(_ text: String) throws -> Bool { try FilterExpression.parse(text).matches(facts) }
        #expect(try matches("annotation.customer = \"c42\" AND annotation.tier >= 2"))
        #expect(try !matches("annotation.customer = \"c43\""))
        #expect(try matches("service(\"backend\") { fault }"))
        #expect(try !matches("service(\"api\") { fault }"))
        #expect(try matches("service(id(name: \"DynamoDB\", type: \"AWS::DynamoDB\"))"))
        #expect(try matches("edge(\"api\", \"backend\") { fault AND responsetime < 1 }"))
        #expect(try matches("rootcause.fault.service { name = \"backend\" AND last }"))
        #expect(try !matches("rootcause.fault.service { name = \"api\" AND last }"))
        #expect(try matches("rootcause.fault.exception { message CONTAINS \"boo\" AND name = \"KeyError\" }"))
        #expect(try matches("rootcause.fault.entity { name = \"query\" AND last }"))
        // The slowest path: api's call to backend, then backend itself.
        #expect(try matches("rootcause.responsetime.service { last and name = \"backend\" }"))
        #expect(try !matches("rootcause.responsetime.service { last and type = \"AWS::EC2::Instance\" }"))
        #expect(try matches("NOT error && !partial && http.method = \"GET\" && user BEGINSWITH \"al\""))
        #expect(try matches("http.url ENDSWITH \"/x\" OR fault"))
    }

    @Test func indexTermsComeFromTopLevelConjunctions() throws {
        let e = try FilterExpression.parse("annotation.customer = \"c42\" AND service(\"api\") AND (annotation.x = 1 OR ok)")
        #expect(e.indexTerms == [.annotation(key: "customer", value: .string("c42")), .service(name: "api")])
        #expect(try FilterExpression.parse("annotation.a = 1 OR annotation.b = 2").indexTerms.isEmpty)
    }
}
