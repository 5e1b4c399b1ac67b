import Foundation
import GRDB
import SkylensCore
import SkylensStorage
import Testing

/// The trace store on its own: facts survive the binary codec, in-progress documents are replaced by their
/// completed version, the service map changes by each trace's difference, index terms narrow summaries, and
/// retention removes what is old.
struct TraceStoreTests {
    static let now: Int64 = 1_800_000_000
    static let trace = "1-6b49d200-a006649127e371903a2de979"

    static func document(_ json: String) throws -> SegmentDocument {
        SegmentDocument(segment: try Segment.parse(JSONValue.parse(json), nowSeconds: now), text: json)
    }

    static var root: String {
        #"{"trace_id":"\#(trace)","id":"a000000000000001","name":"api","origin":"AWS::EC2::Instance","start_time":1800000000.0,"end_time":1800000001.0,"annotations":{"customer":"c42","n":3,"b":true},"user":"alice","http":{"request":{"method":"GET","url":"https://x/y","client_ip":"10.0.0.1"},"response":{"status":200}},"subsegments":[{"id":"1111111111111111","name":"backend","namespace":"remote","start_time":1800000000.1,"end_time":1800000000.6,"fault":true,"http":{"request":{"traced":true}}},{"id":"2222222222222222","name":"DynamoDB","namespace":"aws","start_time":1800000000.7,"end_time":1800000000.8}]}"#
    }

    static func backend(inProgress: Bool) -> String {
        let end = inProgress ? #""in_progress":true"# : #""end_time":1800000000.55,"fault":true,"cause":{"exceptions":[{"id":"e000000000000001","type":"KeyError","message":"boom"}]}"#
        return #"{"trace_id":"\#(trace)","id":"b000000000000001","parent_id":"1111111111111111","name":"backend","start_time":1800000000.15,\#(end)}"#
    }

    /// A scratch directory, removed afterwards (for tests that open more than one store on it).
    func withDirectory(_ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-traces-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(dir)
    }

    func withStore(_ body: (SQLiteTraceStore) async throws -> Void) async throws {
        try await withDirectory { dir in try await body(SQLiteTraceStore(database: try SkylensDatabase(directory: dir))) }
    }

    /// The one number a query on the store's database answers.
    static func count(_ store: SQLiteTraceStore, _ sql: String) async throws -> Int {
        try await store.database.pool.read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    /// The root and the completed backend, in that order, with the backend's call counted once in the map.
    static func expectCompletedBackendCountedOnce(_ store: SQLiteTraceStore) async throws {
        let trace = try #require(try await store.traces(ids: [Self.trace]).first)
        #expect(!trace.facts.isPartial)
        #expect(trace.documents.map(\.id) == ["a000000000000001", "b000000000000001"])
        #expect(trace.documents[1].text == Self.backend(inProgress: false))
        let rows = try await store.serviceGraph(start: Double(Self.now) - 60, end: Double(Self.now) + 60)
        let edge = try #require(rows.first { $0.source?.name == "api" && $0.destination.name == "backend" })
        #expect(edge.statistics.total == 1 && edge.statistics.fault == 1)
        #expect(rows.filter { $0.source == nil }.map(\.statistics.total).reduce(0, +) == 3)
    }

    @Test func factsRoundTripThroughTheCodec() throws {
        let docs = try [Self.document(Self.root), Self.document(Self.backend(inProgress: false))]
        let facts = TraceFacts(TraceAssembler.assemble(id: Self.trace, documents: docs.map(\.segment)))
        #expect(!facts.faultRootCauses.isEmpty && !facts.graph.isEmpty && !facts.annotations.isEmpty)
        let bytes = TraceFactsCodec.encode(facts)
        let decoded = try bytes.withUnsafeBytes { try TraceFactsCodec.decode($0) }
        #expect(decoded == facts)
        #expect(throws: StorageError.self) { try Array(bytes.dropLast()).withUnsafeBytes { try TraceFactsCodec.decode($0) } }
    }

    /// The facts' bytes are laid out as `Sources/SkylensStorage/README.md` specifies (rows already stored stay
    /// readable whatever writes them): version 1, the service table, then the id, the times as little-endian doubles,
    /// optional values after a presence byte, strings after a LEB128 length (two bytes from 128 on).
    @Test func factsBytesFollowTheStoredFormat() throws {
        let url = "https://example.com/" + String(repeating: "x", count: 180)
        let text = #"{"trace_id":"\#(Self.trace)","id":"a000000000000001","name":"api","start_time":1800000000.25,"end_time":1800000001.5,"http":{"request":{"url":"\#(url)"}}}"#
        let f = TraceFacts(TraceAssembler.assemble(id: Self.trace, documents: [try Self.document(text).segment]))
        func leb(_ n: Int) -> [UInt8] {
            var out: [UInt8] = [], v = n
            repeat {
                out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0))
                v >>= 7
            } while v > 0
            return out
        }
        func string(_ s: String) -> [UInt8] { leb(s.utf8.count) + Array(s.utf8) }
        func double(_ d: Double) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: d.bitPattern >> (8 * $0)) } }
        #expect(f.services.count == 1 && f.http?.url == url && f.http?.method == nil)
        var expected: [UInt8] = [1] + leb(1) + string("api") + string(f.services[0].id.type) + string(Self.trace)
        expected += double(1_800_000_000.25) + double(1_800_000_001.5) + double(f.duration)
        expected += f.responseTime.map { [1] + double($0) } ?? [0]
        expected += [1, 0, 1] + [0xC8, 0x01] + Array(url.utf8)
        let bytes = TraceFactsCodec.encode(f)
        #expect(Array(bytes.prefix(expected.count)) == expected)
    }

    /// A map row's latency histogram is written as `ms:count` pairs and read back whole, across commits that add to
    /// a minute's row; a pair that does not read as two integers is skipped.
    @Test func mapHistogramsAccumulateAcrossCommits() async throws {
        try await withStore { store in
            for (i, ms) in [120, 120, 7, 1500].enumerated() {
                let id = "1-6b49d200-\(String(format: "%024x", i))"
                let end = 1_800_000_000 + Double(ms) / 1000
                try await store.append([Self.document(#"{"trace_id":"\#(id)","id":"a000000000000001","name":"api","start_time":1800000000.0,"end_time":\#(end)}"#)],
                                       now: Self.now * 1000)
            }
            let rows = try await store.serviceGraph(start: Double(Self.now) - 60, end: Double(Self.now) + 60)
            let api = try #require(rows.first { $0.source == nil && $0.destination.name == "api" })
            #expect(api.statistics.histogram == [7: 1, 120: 2, 1500: 1])
            #expect(api.statistics.total == 4 && api.statistics.totalResponseTimeMillis == 1747)
            #expect(try await store.database.pool.read { try String.fetchOne($0, sql: "SELECT histogram FROM service_stat") } == "7:1,120:2,1500:1")
        }
        let text = Array("3:1,-4:2,x:5,6:,7:8:9,10:-1,11:3".utf8)
        #expect(text.withUnsafeBytes { SQLiteTraceStore.histogram($0) } == [3: 1, -4: 2, 10: -1, 11: 3])
    }

    @Test func completedDocumentsReplaceInProgressOnesAndTheMapFollows() async throws {
        try await withStore { store in
            try await store.append([Self.document(Self.root), Self.document(Self.backend(inProgress: true))], now: Self.now * 1000)
            let partial = try #require(try await store.traces(ids: [Self.trace]).first)
            #expect(partial.facts.isPartial)
            try await store.append([Self.document(Self.backend(inProgress: false))], now: Self.now * 1000)
            // An in-progress copy arriving late does not undo the completed one.
            try await store.append([Self.document(Self.backend(inProgress: true))], now: Self.now * 1000)
            // The map counts each request once, however many times the trace was re-assembled.
            try await Self.expectCompletedBackendCountedOnce(store)
        }
    }

    /// A trace stored by an earlier run (not in the new store's cache) is read back from its row and blocks when its
    /// next document arrives: the completed version still replaces the in-progress one, and the map still counts
    /// each request once.
    @Test func aTraceFromAnEarlierRunIsContinued() async throws {
        try await withDirectory { dir in
            try await SQLiteTraceStore(database: try SkylensDatabase(directory: dir))
                .append([Self.document(Self.root), Self.document(Self.backend(inProgress: true))], now: Self.now * 1000)
            let store = SQLiteTraceStore(database: try SkylensDatabase(directory: dir))
            try await store.append([Self.document(Self.backend(inProgress: false))], now: Self.now * 1000)
            try await Self.expectCompletedBackendCountedOnce(store)
        }
    }

    @Test func indexTermsNarrowSummariesAndPagesResume() async throws {
        try await withStore { store in
            var docs: [SegmentDocument] = []
            for i in 0..<7 {
                let id = "1-6b49d200-\(String(format: "%024x", i))"
                docs.append(try Self.document(#"{"trace_id":"\#(id)","id":"\#(String(format: "%016x", i + 1))","name":"svc\#(i % 2)","start_time":\#(1_800_000_000 + i),"end_time":\#(1_800_000_000 + i).5,"annotations":{"shard":\#(i % 3)}}"#))
            }
            try await store.append(docs, now: Self.now * 1000)
            let filter = try FilterExpression.parse("annotation.shard = 1")
            let page = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                 filter: filter, after: nil, limit: 10)
            #expect(page.summaries.count == 2)
            #expect(page.processed == 2)
            var seen: [String] = []
            var token: String?
            repeat {
                let p = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                  filter: try FilterExpression.parse("service(\"svc0\")"), after: token, limit: 2)
                seen += p.summaries.map(\.id)
                token = p.nextToken
            } while token != nil
            #expect(seen.count == 4 && Set(seen).count == 4)
            // Traces that ended before the cut-off go; the one that started before it but ended after stays.
            #expect(try await store.deleteTraces(before: Double(Self.now) + 3.2) == 3)
            let left = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                 filter: nil, after: nil, limit: 10)
            #expect(left.summaries.count == 4)
        }
    }

    /// The posting lists as stored: (term, bucket, entries) in key order.
    static func postings(_ store: SQLiteTraceStore) async throws -> [(term: String, bucket: Int64, entries: [TracePostings.Entry])] {
        try await store.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT term, bucket, entries FROM trace_posting ORDER BY term, bucket, flush").map { row in
                var entries: [TracePostings.Entry] = []
                let blob: Data = row[2]
                try blob.withUnsafeBytes { try TracePostings.decode($0, into: &entries) }
                return (row[0], row[1], entries)
            }
        }
    }

    /// Commits journal their traces and the entries wait to be flushed; a store opened later (the earlier one's
    /// gathered entries gone, as after a restart) makes the journalled traces' entries from their facts before it
    /// answers a filter. A trace whose start moved earlier gets entries at its new start and the old ones are passed
    /// over; a trace that only gains a term gets an entry for it alone; retention drops whole buckets.
    @Test func indexTermsGoThroughThePostingJournal() async throws {
        try await withDirectory { dir in
            let first = SQLiteTraceStore(database: try SkylensDatabase(directory: dir))
            try await first.flushIndex()
            try await first.append([Self.document(#"{"trace_id":"\#(Self.trace)","id":"a000000000000001","name":"api","start_time":1800000000.0,"end_time":1800000001.0,"annotations":{"shard":1}}"#)],
                                   now: Self.now * 1000)
            try await first.flushIndex()
            #expect(try await Self.postings(first).map { "\($0.term) \($0.bucket) \($0.entries.map(\.start))" }
                    == ["a:shard=n:1 180000000 [1800000000.0]", "s:api 180000000 [1800000000.0]"])
            try await first.append([Self.document(#"{"trace_id":"\#(Self.trace)","id":"b000000000000001","name":"late","start_time":1799999999.5,"end_time":1800000000.5}"#)],
                                   now: Self.now * 1000)
            #expect(try await Self.count(first, "SELECT COUNT(*) FROM trace_posting") == 2)
            #expect(try await Self.count(first, "SELECT COUNT(*) FROM trace_posting_journal") == 1)

            let store = SQLiteTraceStore(database: try SkylensDatabase(directory: dir))
            for expression in ["annotation.shard = 1", #"service("late")"#, #"service("api") AND annotation.shard = 1"#] {
                let page = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                     filter: try FilterExpression.parse(expression), after: nil, limit: 10)
                #expect(page.summaries.map(\.id) == [Self.trace], "\(expression)")
                #expect(page.processed == 1)
            }
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_posting_journal") == 0)
            let rowid = try await Self.count(store, "SELECT rowid FROM trace")
            let moved = TracePostings.Entry(start: 1799999999.5, trace: Int64(rowid))
            #expect(try await Self.postings(store).filter { $0.bucket == 179999999 }.map { "\($0.term) \($0.entries == [moved])" }
                    == ["a:shard=n:1 true", "s:api true", "s:late true"])

            // Maintenance flushes without a query; a new service at the same start is the only new entry.
            try await store.append([Self.document(#"{"trace_id":"\#(Self.trace)","id":"c000000000000001","name":"third","start_time":1800000000.2,"end_time":1800000000.4}"#)],
                                   now: Self.now * 1000)
            try await store.flushIndex()
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_posting_journal") == 0)
            #expect(try await Self.postings(store).filter { $0.bucket == 179999999 }.map(\.term) == ["a:shard=n:1", "s:api", "s:late", "s:third"])

            try await store.append([Self.document(#"{"trace_id":"\#(Self.trace)","id":"d000000000000001","name":"fourth","start_time":1800000000.2,"end_time":1800000000.4}"#)],
                                   now: Self.now * 1000)
            #expect(try await store.deleteTraces(before: Double(Self.now) + 10) == 1)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_posting") == 0)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_posting_journal") == 0)
        }
    }

    /// Retention drops the buckets before the cut-off's: a trace that started there and is still running at the
    /// cut-off stays, and so do its entries (made again from its facts).
    @Test func retentionKeepsTheEntriesOfTracesThatStay() async throws {
        try await withStore { store in
            let long = "1-6b49d200-000000000000000000000001", short = "1-6b49d200-000000000000000000000002"
            try await store.append([
                Self.document(#"{"trace_id":"\#(long)","id":"a000000000000001","name":"api","start_time":1800000000.0,"end_time":1800000100.0}"#),
                Self.document(#"{"trace_id":"\#(short)","id":"a000000000000002","name":"api","start_time":1800000001.0,"end_time":1800000002.0}"#),
            ], now: Self.now * 1000)
            try await store.flushIndex()
            #expect(try await store.deleteTraces(before: Double(Self.now) + 50) == 1)
            let page = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 200, range: .traceID,
                                                 filter: try FilterExpression.parse(#"service("api")"#), after: nil, limit: 10)
            #expect(page.summaries.map(\.id) == [long])
            #expect(try await Self.postings(store).map { "\($0.term) \($0.bucket) \($0.entries.count)" } == ["s:api 180000000 1"])
        }
    }

    /// Posting lists keep their entries' starts and rowids exactly (whatever their sign or spacing); damaged bytes are
    /// an error, never a shorter list.
    @Test func postingListsRoundTrip() throws {
        let entries = [(-5.25, 3), (0.0, 1), (1e-300, Int64.max), (1800000000.000001, 2), (1800000000.000001, 7), (1800000009.9, -4)]
            .map { TracePostings.Entry(start: $0.0, trace: $0.1) }
        let bytes = TracePostings.encode(entries)
        var decoded: [TracePostings.Entry] = []
        try bytes.withUnsafeBytes { try TracePostings.decode($0, into: &decoded) }
        #expect(decoded == entries)
        #expect(TracePostings.bucket(1800000009.999) == 180000000 && TracePostings.bucket(-0.5) == -1)
        for damaged in [Array(bytes.dropLast()), bytes + [0], [UInt8(0x85)]] {
            var out: [TracePostings.Entry] = []
            #expect(throws: StorageError.self) { try damaged.withUnsafeBytes { try TracePostings.decode($0, into: &out) } }
        }
    }

    /// An async consumer that starts a trace of its own but links to a producer's subsegment joins the producer's
    /// trace, and so do its later documents, commits later and from a store opened afresh (the join is stored).
    @Test func aLinkedConsumerJoinsTheProducersTrace() async throws {
        let consumerTrace = "1-6b49d201-000000000000000000000001"
        let producer = #"{"trace_id":"\#(Self.trace)","id":"a000000000000001","name":"producer","start_time":1800000000.0,"end_time":1800000000.2,"subsegments":[{"id":"1111111111111111","name":"SNS","namespace":"aws","start_time":1800000000.05,"end_time":1800000000.1}]}"#
        let consumer = #"{"trace_id":"\#(consumerTrace)","id":"c000000000000001","name":"consumer","start_time":1800000000.3,"end_time":1800000000.6,"links":[{"trace_id":"\#(Self.trace)","id":"1111111111111111"}]}"#
        let work = #"{"trace_id":"\#(consumerTrace)","id":"d000000000000001","type":"subsegment","parent_id":"c000000000000001","name":"work","start_time":1800000000.4,"end_time":1800000000.5}"#
        try await withDirectory { dir in
            let store = SQLiteTraceStore(database: try SkylensDatabase(directory: dir))
            try await store.append([Self.document(producer)], now: Self.now * 1000)
            try await store.append([Self.document(consumer)], now: Self.now * 1000)
            let later = SQLiteTraceStore(database: try SkylensDatabase(directory: dir))
            try await later.append([Self.document(work)], now: Self.now * 1000)
            for id in [Self.trace, consumerTrace] {
                let stored = try await later.traces(ids: [id])
                #expect(stored.map(\.facts.id) == [Self.trace], "\(id)")
                #expect(stored.first?.documents.map(\.id) == ["a000000000000001", "c000000000000001", "d000000000000001"])
                #expect(stored.first?.facts.linkedTraceIDs == [consumerTrace])
            }
            #expect(try await Self.count(later, "SELECT COUNT(*) FROM trace") == 1)
        }
    }

    /// A commit that brings the gathered entries to the store's limit writes them, so they stay few without queries.
    @Test func theCommitThatReachesTheLimitWritesTheEntries() async throws {
        try await withDirectory { dir in
            let store = SQLiteTraceStore(database: try SkylensDatabase(directory: dir), postingLimit: 3)
            try await store.flushIndex()
            func rows() async throws -> (postings: Int, journal: Int) {
                (try await Self.count(store, "SELECT COUNT(*) FROM trace_posting"),
                 try await Self.count(store, "SELECT COUNT(*) FROM trace_posting_journal"))
            }
            try await store.append([Self.document(#"{"trace_id":"\#(Self.trace)","id":"a000000000000001","name":"api","start_time":1800000000.0,"end_time":1800000001.0,"annotations":{"shard":1}}"#)],
                                   now: Self.now * 1000)
            #expect(try await rows() == (0, 1))
            try await store.append([Self.document(#"{"trace_id":"\#(Self.trace)","id":"b000000000000001","name":"late","start_time":1800000000.5,"end_time":1800000000.6}"#)],
                                   now: Self.now * 1000)
            #expect(try await rows() == (3, 0))
        }
    }

    /// One flush of many traces (rows inserted many to a statement) writes a row per term and bucket holding exactly
    /// the traces with that term: every trace is found by each of its terms, at its current start.
    @Test func postingListsHoldEveryTraceOfTheirTerm() async throws {
        try await withStore { store in
            try await store.flushIndex()
            // More than two statements' worth of traces, and a remainder; each service's more than a bucket's
            // candidates that are checked on their facts alone (`TracePostings.intersectAbove`).
            let n = 310
            func trace(_ i: Int) -> String { "1-6b49d200-" + String(repeating: "0", count: 20) + String(format: "%04x", i) }
            func id(_ i: Int, _ k: Int) -> String { String(format: "%012x%04x", i, k) }
            let first = try (0..<n).map { i in
                try Self.document(#"{"trace_id":"\#(trace(i))","id":"\#(id(i, 1))","name":"svc\#(i % 3)","start_time":\#(1800000000.0 + Double(i) / 1000),"end_time":1800000001.0,"annotations":{"shard":\#(i % 7)}}"#)
            }
            try await store.append(first, now: Self.now * 1000)
            try await store.flushIndex()
            // A service's candidates are narrowed to those the shard's list holds before any trace is read.
            let narrowed = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                     filter: try FilterExpression.parse(#"service("svc1") AND annotation.shard = 2"#),
                                                     after: nil, limit: 1000)
            let expected = (0..<n).filter { $0 % 3 == 1 && $0 % 7 == 2 }.map(trace)
            #expect(narrowed.summaries.map(\.id) == expected)
            #expect(narrowed.processed == expected.count)
            // Every tenth trace gets an earlier segment: all its terms get entries at the new start, in the bucket before.
            let moved = Array(stride(from: 0, to: n, by: 10))
            try await store.append(try moved.map { i in
                try Self.document(#"{"trace_id":"\#(trace(i))","id":"\#(id(i, 2))","name":"late","start_time":1799999999.5,"end_time":1800000000.5}"#)
            }, now: Self.now * 1000)
            try await store.flushIndex()
            let postings = try await Self.postings(store)
            let rowids = try await store.database.pool.read { db in
                try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT trace_id, rowid FROM trace").map { ($0[0] as String, $0[1] as Int64) })
            }
            func entries(_ term: String, _ bucket: Int64) -> [TracePostings.Entry] {
                postings.filter { $0.term == term && $0.bucket == bucket }.flatMap(\.entries)
            }
            for shard in 0..<7 {
                let traces = (0..<n).filter { $0 % 7 == shard }
                #expect(entries("a:shard=n:\(shard)", 180000000) == traces.map { TracePostings.Entry(start: 1800000000.0 + Double($0) / 1000, trace: rowids[trace($0)]!) })
                #expect(entries("a:shard=n:\(shard)", 179999999) == traces.filter { $0 % 10 == 0 }.map { TracePostings.Entry(start: 1799999999.5, trace: rowids[trace($0)]!) }.sorted())
            }
            // Three services and seven shards in the later bucket; in the earlier one, the moved traces' three
            // services, seven shards and "late".
            let rowCount = 21
            #expect(postings.count == rowCount)
            func found(_ expression: String) async throws -> [String] {
                let page = try await store.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                     filter: try FilterExpression.parse(expression), after: nil, limit: 1000)
                return page.summaries.map(\.id)
            }
            // In order of start: the moved traces first.
            func ordered(_ traces: [Int]) -> [String] { (traces.filter { $0 % 10 == 0 } + traces.filter { $0 % 10 != 0 }).map(trace) }
            for shard in 0..<7 {
                #expect(try await found("annotation.shard = \(shard)") == ordered((0..<n).filter { $0 % 7 == shard }), "shard \(shard)")
            }
            for k in 0..<3 {
                #expect(try await found(#"service("svc\#(k)") AND annotation.shard = 2"#) == ordered((0..<n).filter { $0 % 3 == k && $0 % 7 == 2 }), "svc\(k)")
            }
            #expect(try await found(#"service("late")"#) == moved.map(trace))
        }
    }

    /// Traces stored before their rows moved to arrival order (migration v11) are read back unchanged after it.
    @Test func tracesSurviveTheMoveToArrivalOrder() async throws {
        try await withDirectory { base in
            let current = SQLiteTraceStore(database: try SkylensDatabase(directory: base + "/current"))
            try await current.append([Self.document(Self.root), Self.document(Self.backend(inProgress: false))], now: Self.now * 1000)
            let expected = try #require(try await current.traces(ids: [Self.trace]).first)
            let (blocks, rows) = try await current.database.pool.read { db in
                (try Row.fetchAll(db, sql: "SELECT id, created, bytes FROM trace_block").map { Array($0.databaseValues) },
                 try Row.fetchAll(db, sql: "SELECT trace_id, start, end, trace_time, facts, segments FROM trace").map { Array($0.databaseValues) })
            }

            // The same rows in a database as it was before the move.
            try FileManager.default.createDirectory(atPath: base + "/old", withIntermediateDirectories: true)
            let old = try DatabasePool(path: base + "/old/skylens.sqlite")
            try SkylensDatabase.migrator.migrate(old, upTo: "v10-trace-term-journal")
            try await old.write { db in
                for b in blocks { try db.execute(sql: "INSERT INTO trace_block (id, created, bytes) VALUES (?, ?, ?)", arguments: StatementArguments(b)) }
                for r in rows {
                    try db.execute(sql: "INSERT INTO trace (trace_id, start, end, trace_time, facts, segments) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: StatementArguments(r))
                }
            }
            try old.close()

            let migrated = SQLiteTraceStore(database: try SkylensDatabase(directory: base + "/old"))
            let trace = try #require(try await migrated.traces(ids: [Self.trace]).first)
            #expect(trace.facts == expected.facts)
            #expect(trace.documents.map(\.id) == expected.documents.map(\.id))
            #expect(trace.documents.map(\.text) == expected.documents.map(\.text))
            // And it is still one row a trace: a new document replaces the row instead of adding one.
            try await migrated.append([Self.document(Self.backend(inProgress: true))], now: Self.now * 1000)
            #expect(try await Self.count(migrated, "SELECT COUNT(*) FROM trace") == 1)
        }
    }

    /// Index terms that named their trace by id (before migration v13), with changes still journalled in the old
    /// form, are rebuilt from the traces' facts, by rowid (v13) and then as posting lists (v17); filters find the
    /// traces afterwards.
    @Test func indexTermsAreRebuiltAsPostingLists() async throws {
        try await withDirectory { base in
            let current = SQLiteTraceStore(database: try SkylensDatabase(directory: base + "/current"))
            try await current.append([Self.document(Self.root)], now: Self.now * 1000)
            let rows = try await current.database.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT trace_id, start, end, trace_time, facts, segments FROM trace").map { Array($0.databaseValues) }
            }

            try FileManager.default.createDirectory(atPath: base + "/old", withIntermediateDirectories: true)
            let old = try DatabasePool(path: base + "/old/skylens.sqlite")
            try SkylensDatabase.migrator.migrate(old, upTo: "v12-no-trace-end-index")
            try await old.write { db in
                for r in rows {
                    try db.execute(sql: "INSERT INTO trace (trace_id, start, end, trace_time, facts, segments) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: StatementArguments(r))
                }
                // One term applied, the others still in a journal row of the old form.
                try db.execute(sql: "INSERT INTO trace_term (term, start, trace_id) VALUES ('s:api', 1800000000.0, ?)", arguments: [Self.trace])
                try db.execute(sql: "INSERT INTO trace_term_journal (changes) VALUES (x'0105613a6e3d')")
            }
            try old.close()

            let migrated = SQLiteTraceStore(database: try SkylensDatabase(directory: base + "/old"))
            let rowid = try await Self.count(migrated, "SELECT rowid FROM trace")
            let entry = TracePostings.Entry(start: 1800000000.0, trace: Int64(rowid))
            #expect(try await Self.postings(migrated).map { "\($0.term) \($0.bucket) \($0.entries == [entry])" } == [
                "a:b=b:true 180000000 true", "a:customer=s:c42 180000000 true", "a:n=n:3 180000000 true",
                "s:DynamoDB 180000000 true", "s:api 180000000 true",
            ])
            #expect(try await Self.count(migrated, "SELECT COUNT(*) FROM trace_posting WHERE flush = 0") == 5)
            for expression in [#"annotation.customer = "c42""#, "annotation.n = 3", #"service("DynamoDB") AND annotation.b = true"#] {
                let page = try await migrated.summaries(start: Double(Self.now) - 10, end: Double(Self.now) + 10, range: .traceID,
                                                        filter: try FilterExpression.parse(expression), after: nil, limit: 10)
                #expect(page.summaries.map(\.id) == [Self.trace], "\(expression)")
            }
        }
    }

    /// Log streams "a" and "b" of group "g", as the log store keeps them.
    static func createStreams(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO log_group (id, name, creation_time) VALUES (7, 'g', 0);
            INSERT INTO log_stream (id, group_id, name, creation_time) VALUES (3, 7, 'a', 0), (4, 7, 'b', 0);
            """)
    }

    /// Log events naming a trace are kept as one window per trace and stream, widened by later events; retention
    /// removes the windows that ended before the cut-off. A database of per-event rows (before migration v14) becomes
    /// the same windows; so does one of windows by name (before v15, which names trace and stream in a few bytes).
    @Test func logReferencesAreWindowsPerStream() async throws {
        let t = Self.now * 1000
        try await withDirectory { base in
            let store = SQLiteTraceStore(database: try SkylensDatabase(directory: base + "/current"))
            try await store.database.pool.write { try Self.createStreams($0) }
            try await store.addLogReferences([
                TraceLogReference(traceID: Self.trace, logGroup: "g", logStream: "a", timestamp: t + 5),
                TraceLogReference(traceID: Self.trace, logGroup: "g", logStream: "a", timestamp: t + 2),
                TraceLogReference(traceID: Self.trace, logGroup: "g", logStream: "b", timestamp: t + 1),
            ])
            try await store.addLogReferences([TraceLogReference(traceID: Self.trace, logGroup: "g", logStream: "a", timestamp: t + 9)])
            let windows = try await store.logReferences(traceIDs: [Self.trace])
            #expect(windows.map { "\($0.logStream) \($0.first - t) \($0.last - t)" } == ["b 1 1", "a 2 9"])
            #expect(windows.allSatisfy { $0.traceID == Self.trace && $0.logGroup == "g" })
            #expect(TraceIdentifiers.packed(traceID: Self.trace).flatMap { TraceIdentifiers.traceID(packed: $0) } == Self.trace)
            #expect(TraceIdentifiers.packed(traceID: "1-6B49D200-a006649127e371903a2de979") == nil)
            #expect(TraceIdentifiers.packed(traceID: "1-6b49d200-a006649127e371903a2de97") == nil)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_log") == 2)
            _ = try await store.deleteTraces(before: Double(t + 5) / 1000)
            #expect(try await store.logReferences(traceIDs: [Self.trace]).map(\.logStream) == ["a"])

            try FileManager.default.createDirectory(atPath: base + "/old", withIntermediateDirectories: true)
            let old = try DatabasePool(path: base + "/old/skylens.sqlite")
            try SkylensDatabase.migrator.migrate(old, upTo: "v13-trace-terms-by-rowid")
            try await old.write { db in
                try Self.createStreams(db)
                for (stream, offset) in [("a", 5), ("a", 2), ("b", 1), ("a", 9)] {
                    try db.execute(sql: "INSERT INTO trace_log (trace_id, log_group, log_stream, timestamp) VALUES (?, 'g', ?, ?)",
                                   arguments: [Self.trace, stream, t + Int64(offset)])
                }
            }
            try old.close()
            let migrated = SQLiteTraceStore(database: try SkylensDatabase(directory: base + "/old"))
            #expect(try await migrated.logReferences(traceIDs: [Self.trace]) == windows)
        }
    }
}
