import SkylensCore
import Testing

/// Documents sent before their trace's root wait for it (to be written with it, once), for `limit` at most, and
/// `capacity` of them at most.
struct RootlessHoldTests {
    static let t0 = ContinuousClock.now

    /// A document of trace `trace` (a number): the root (no parent), a downstream segment, an independent subsegment,
    /// or an in-progress root.
    enum Kind { case root, downstream, subsegment, inProgressRoot }

    static func document(_ trace: Int, _ id: Int, _ kind: Kind) throws -> SegmentDocument {
        let traceID = "1-6b49d200-\(String(format: "%024x", trace))"
        var members = #""trace_id":"\#(traceID)","id":"\#(String(format: "%016x", id))","name":"svc","start_time":1800000000"#
        switch kind {
        case .root: members += #","end_time":1800000001"#
        case .downstream: members += #","end_time":1800000001,"parent_id":"00000000000000aa""#
        case .subsegment: members += #","end_time":1800000001,"type":"subsegment","parent_id":"00000000000000bb""#
        case .inProgressRoot: members += #","in_progress":true"#
        }
        let json = "{" + members + "}"
        return SegmentDocument(segment: try Segment.parse(JSONValue.parse(json), nowSeconds: 1_800_000_000), text: json)
    }

    static func ids(_ documents: [SegmentDocument]) -> [String] { documents.map(\.segment.id) }

    @Test func documentsWaitForTheirRootAndGoWithItInArrivalOrder() throws {
        var hold = RootlessHold(limit: .seconds(1), capacity: 100)
        let first = try [Self.document(1, 1, .subsegment), Self.document(2, 2, .downstream), Self.document(1, 3, .downstream)]
        #expect(hold.release(adding: first, now: Self.t0).isEmpty)
        #expect(hold.count == 3)
        // Trace 1's root arrives: its two held documents go with it, first; trace 2's stays.
        let second = try [Self.document(3, 4, .downstream), Self.document(1, 5, .root)]
        #expect(Self.ids(hold.release(adding: second, now: Self.t0 + .milliseconds(200))) == [
            "0000000000000001", "0000000000000003", "0000000000000005",
        ])
        #expect(hold.count == 2)
        #expect(Self.ids(hold.releaseAll()) == ["0000000000000002", "0000000000000004"])
        #expect(hold.count == 0)
    }

    @Test func aBatchOfCompleteTracesGoesAsItCame() throws {
        var hold = RootlessHold(limit: .seconds(1), capacity: 100)
        let batch = try [Self.document(1, 1, .downstream), Self.document(2, 2, .root), Self.document(1, 3, .root)]
        #expect(Self.ids(hold.release(adding: batch, now: Self.t0)) == Self.ids(batch))
        #expect(hold.count == 0)
    }

    /// Documents that go and documents that wait, mixed in one batch: each keep their order.
    @Test func aMixedBatchKeepsItsOrder() throws {
        var hold = RootlessHold(limit: .seconds(1), capacity: 100)
        let batch = try [
            Self.document(1, 1, .downstream), Self.document(2, 2, .downstream), Self.document(1, 3, .root),
            Self.document(3, 4, .subsegment), Self.document(2, 5, .downstream), Self.document(4, 6, .root),
            Self.document(3, 7, .downstream),
        ]
        #expect(Self.ids(hold.release(adding: batch, now: Self.t0)) == ["0000000000000001", "0000000000000003", "0000000000000006"])
        #expect(Self.ids(hold.release(adding: [try Self.document(3, 8, .root)], now: Self.t0)) == [
            "0000000000000004", "0000000000000007", "0000000000000008",
        ])
        #expect(Self.ids(hold.releaseAll()) == ["0000000000000002", "0000000000000005"])
    }

    /// A root stored another way (PutTraceSegments) releases its trace's held documents, and only those.
    @Test func aRootStoredElsewhereReleasesItsTrace() throws {
        var hold = RootlessHold(limit: .seconds(1), capacity: 100)
        let held = try [Self.document(1, 1, .downstream), Self.document(2, 2, .downstream), Self.document(1, 3, .subsegment)]
        #expect(hold.release(adding: held, now: Self.t0).isEmpty)
        let stored = try Set([Self.document(1, 4, .root).traceKey].compactMap { $0 })
        #expect(Self.ids(hold.release(adding: [], rootsStored: stored, now: Self.t0)) == ["0000000000000001", "0000000000000003"])
        // A document arriving with the call is released too when its trace's root was stored.
        let late = try [Self.document(1, 5, .downstream), Self.document(2, 6, .downstream)]
        #expect(Self.ids(hold.release(adding: late, rootsStored: stored, now: Self.t0)) == ["0000000000000005"])
        #expect(Self.ids(hold.releaseAll()) == ["0000000000000002", "0000000000000006"])
    }

    /// An in-progress root does not complete its trace; a document whose root never comes goes once it has waited
    /// `limit`, whether or not anything else arrives.
    @Test func documentsWithoutACompletedRootGoAfterTheLimit() throws {
        var hold = RootlessHold(limit: .seconds(1), capacity: 100)
        #expect(hold.release(adding: [try Self.document(1, 1, .inProgressRoot)], now: Self.t0).isEmpty)
        #expect(hold.release(adding: [try Self.document(2, 2, .downstream)], now: Self.t0 + .milliseconds(500)).isEmpty)
        #expect(hold.release(adding: [], now: Self.t0 + .milliseconds(999)).isEmpty)
        #expect(Self.ids(hold.release(adding: [], now: Self.t0 + .seconds(1))) == ["0000000000000001"])
        #expect(Self.ids(hold.release(adding: [], now: Self.t0 + .milliseconds(1500))) == ["0000000000000002"])
        #expect(hold.count == 0)
    }

    @Test func beyondTheCapacityTheOldestGo() throws {
        var hold = RootlessHold(limit: .seconds(1), capacity: 2)
        let batch = try (1...3).map { try Self.document($0, $0, .downstream) }
        #expect(Self.ids(hold.release(adding: batch, now: Self.t0)) == ["0000000000000001"])
        #expect(Self.ids(hold.release(adding: [try Self.document(4, 4, .downstream)], now: Self.t0)) == ["0000000000000002"])
        #expect(hold.count == 2)
    }
}
