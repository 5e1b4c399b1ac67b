import Foundation
import Testing
@testable import SkylensCore
@testable import SkylensStorage

final class SQLiteLogStoreTests {
    let now: Int64 = 1_800_000_000_000
    /// The stores' directories, removed when the test's instance goes.
    private var directories: [String] = []

    deinit { for d in directories { try? FileManager.default.removeItem(atPath: d) } }

    func makeStore(sealBytes: Int = 65_536) throws -> SQLiteLogStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-store-\(UUID().uuidString)").path
        directories.append(dir)
        return SQLiteLogStore(database: try SkylensDatabase(directory: dir), compressionLevel: 1, sealBytes: sealBytes)
    }

    func append(_ store: SQLiteLogStore, _ group: String, _ stream: String, _ events: [(Int64, String)]) async throws -> AppendReceipt {
        var request = AppendRequest(group: group, stream: stream, events: LogBatch(events), ingestionTime: now)
        try store.prepareForAppend(&request)
        return try await store.append([request])[0].get()
    }

    @Test func groupAndStreamLifecycle() async throws {
        let store = try makeStore()
        try await store.createLogGroup("g", tags: ["team": "a"], now: now)
        await #expect(throws: LogsError.groupExists) { try await store.createLogGroup("g", tags: [:], now: now) }
        try await store.createLogStream(group: "g", name: "s", now: now)
        await #expect(throws: LogsError.streamExists) { try await store.createLogStream(group: "g", name: "s", now: now) }
        await #expect(throws: LogsError.groupNotFound) { try await store.createLogStream(group: "nope", name: "s", now: now) }
        #expect(try await store.tags(ofGroup: "g") == ["team": "a"])
        try await store.deleteLogStream(group: "g", name: "s")
        await #expect(throws: LogsError.streamNotFound) { try await store.deleteLogStream(group: "g", name: "s") }
        try await store.deleteLogGroup("g")
        #expect(try await store.describeLogGroups(LogGroupQuery()).items.isEmpty)
    }

    @Test func appendFailsAloneForAMissingStream() async throws {
        let store = try makeStore()
        try await store.createLogGroup("g", tags: [:], now: now)
        try await store.createLogStream(group: "g", name: "s", now: now)
        let results = try await store.append([
            AppendRequest(group: "g", stream: "missing", events: LogBatch([(now, "x")]), ingestionTime: now),
            AppendRequest(group: "g", stream: "s", events: LogBatch([(now, "y")]), ingestionTime: now),
        ])
        #expect(throws: LogsError.streamNotFound) { try results[0].get() }
        #expect(try results[1].get().firstSeq == 1)
    }

    @Test func readsHotAndSealedEventsInOrderWithTokens() async throws {
        let store = try makeStore(sealBytes: 200)
        try await store.createLogGroup("g", tags: [:], now: now)
        try await store.createLogStream(group: "g", name: "s", now: now)
        // Small batch (hot), then a batch over sealBytes (a block at once), then hot again with an earlier timestamp.
        _ = try await append(store, "g", "s", [(now - 300, "a0"), (now - 200, "a1")])
        _ = try await append(store, "g", "s", (0..<20).map { (now - 100 + Int64($0), "block event \($0) padded to be long") })
        _ = try await append(store, "g", "s", [(now - 250, "late")])
        var page = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", limit: 3, startFromHead: true))
        #expect(page.events.map(\.message) == ["a0", "late", "a1"])
        // Seal the hot tier and read on with the forward token: the order holds across tiers.
        #expect(try await store.sealHotEvents(olderThan: now + 1) == 3)
        page = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", token: try GetLogEventsToken.parse(page.nextForwardToken), limit: 5))
        #expect(page.events.map(\.message) == (0..<5).map { "block event \($0) padded to be long" })
        // Walk to the end: the last forward token comes back unchanged.
        var token = page.nextForwardToken
        var seen = 8
        while true {
            let next = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", token: try GetLogEventsToken.parse(token), limit: 7))
            seen += next.events.count
            if next.events.isEmpty {
                #expect(next.nextForwardToken == token)
                break
            }
            token = next.nextForwardToken
        }
        #expect(seen == 23)
        // Without a token and startFromHead false, the newest events come back; the backward token pages back.
        let tail = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", limit: 2))
        #expect(tail.events.map(\.message) == ["block event 18 padded to be long", "block event 19 padded to be long"])
        let before = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", token: try GetLogEventsToken.parse(tail.nextBackwardToken), limit: 2))
        #expect(before.events.map(\.message) == ["block event 16 padded to be long", "block event 17 padded to be long"])
    }

    @Test func timeWindowIsStartInclusiveEndExclusive() async throws {
        let store = try makeStore()
        try await store.createLogGroup("g", tags: [:], now: now)
        try await store.createLogStream(group: "g", name: "s", now: now)
        _ = try await append(store, "g", "s", [(100, "a"), (200, "b"), (300, "c")].map { (now - 1000 + $0.0, $0.1) })
        let page = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", startTime: now - 800, endTime: now - 700, startFromHead: true))
        #expect(page.events.map(\.message) == ["b"])
    }

    @Test func filterAcrossStreamsPaginatesWithoutGapsOrRepeats() async throws {
        let store = try makeStore(sealBytes: 500)
        try await store.createLogGroup("g", tags: [:], now: now)
        for s in ["s1", "s2", "s3"] { try await store.createLogStream(group: "g", name: s, now: now) }
        var expected: [String] = []
        for i in 0..<60 {
            let stream = ["s1", "s2", "s3"][i % 3]
            let message = (i % 4 == 0 ? "ERROR " : "INFO ") + "event \(i) with some padding text"
            if i % 4 == 0 { expected.append(message) }
            _ = try await append(store, "g", stream, (0..<1).map { _ in (now - 10_000 + Int64(i * 10), message) })
        }
        _ = try await store.sealHotEvents(olderThan: now + 1)
        let matcher = try FilterPattern.parse("ERROR").compile()
        var cursor: FilterCursor?
        var got: [String] = []
        repeat {
            let page = try await store.filterLogEvents(FilterEventsQuery(group: "g", cursor: cursor, limit: 4), matcher: matcher)
            got += page.events.map(\.message)
            cursor = try page.nextToken.map { try FilterCursor.parse($0) }
        } while cursor != nil
        #expect(got == expected)
        let only = try await store.filterLogEvents(FilterEventsQuery(group: "g", streamNames: ["s2"]), matcher: matcher)
        #expect(only.events.allSatisfy { $0.stream == "s2" })
        #expect(only.events.count == expected.count / 3)
        let none = try await store.filterLogEvents(FilterEventsQuery(group: "g", streamPrefix: "zz"), matcher: matcher)
        #expect(none.events.isEmpty)
    }

    /// Sealed blocks are scanned through a pattern's prefilter (its needles searched over the whole block, the pattern
    /// run only on messages that hold one): every pattern kind finds exactly what it finds event by event, escaped
    /// JSON values included.
    @Test(arguments: [#"{ $.level = "CRITICAL" }"#, #"{ $.n > 5 }"#, "?ERROR ?WARN", "ERROR -timeout", #"%Pay[a-z]+%"#,
                      #"[ip, user, status = 5*]"#])
    func sealedScansFindWhatEachEventMatches(pattern: String) async throws {
        let store = try makeStore(sealBytes: 100_000)
        try await store.createLogGroup("g", tags: [:], now: now)
        try await store.createLogStream(group: "g", name: "s", now: now)
        let messages = [
            #"{"level":"CRITICAL","n":7}"#, #"{"level":"\u0043RITICAL","n":1}"#, #"{"le\u0076el":"CRITICAL"}"#,
            #"{"level":"INFO","msg":"a\nb","n":9}"#, #"{"level":"INFO","\u006e":6}"#, "ERROR disk full", "ERROR timeout",
            "WARN slow", "Payment failed", "10.0.0.1 alice 503", "10.0.0.2 bob 200", "plain line",
        ]
        _ = try await append(store, "g", "s", messages.enumerated().map { (now - 10_000 + Int64($0.offset), $0.element) })
        _ = try await store.sealHotEvents(olderThan: now + 1)
        let matcher = try FilterPattern.parse(pattern).compile()
        let expected = messages.filter { m in Array(m.utf8).withUnsafeBytes { matcher.matches($0) } }
        #expect(!expected.isEmpty)
        let page = try await store.filterLogEvents(FilterEventsQuery(group: "g"), matcher: matcher)
        #expect(page.events.map(\.message) == expected, "\(pattern)")
    }

    @Test func retentionSweepsOldBlocksAndUpdatesStoredBytes() async throws {
        let store = try makeStore(sealBytes: 10)
        try await store.createLogGroup("g", tags: [:], now: now)
        try await store.createLogStream(group: "g", name: "s", now: now)
        // sealBytes is 10: the first two batches become blocks at once, the third stays in the hot tier.
        _ = try await append(store, "g", "s", [(now - 3 * 86_400_000, "old event in a block")])
        _ = try await append(store, "g", "s", [(now - 1000, "fresh event")])
        _ = try await append(store, "g", "s", [(now - 3 * 86_400_000 + 5, "old")])
        let before = try await store.describeLogGroups(LogGroupQuery()).items[0].storedBytes
        #expect(before > 0)
        try await store.putRetentionPolicy(group: "g", days: 1)
        #expect(try await store.sweepExpired(now: now) == 2)
        let page = try await store.getLogEvents(GetEventsQuery(group: "g", stream: "s", startFromHead: true))
        #expect(page.events.map(\.message) == ["fresh event"])
        let after = try await store.describeLogGroups(LogGroupQuery()).items[0]
        #expect(after.retentionInDays == 1)
        #expect(after.storedBytes < before)
        #expect(after.storedBytes > 0)
    }

    @Test func describePaginatesGroupsAndStreams() async throws {
        let store = try makeStore()
        for i in 0..<5 { try await store.createLogGroup("grp-\(i)", tags: [:], now: now + Int64(i)) }
        try await store.createLogGroup("other", tags: [:], now: now)
        var names: [String] = []
        var token: String?
        repeat {
            let page = try await store.describeLogGroups(LogGroupQuery(prefix: "grp-", limit: 2, nextToken: token))
            names += page.items.map(\.name)
            token = page.nextToken
        } while token != nil
        #expect(names == (0..<5).map { "grp-\($0)" })
        #expect(try await store.describeLogGroups(LogGroupQuery(pattern: "OTH")).items.map(\.name) == ["other"])
        for s in ["b", "a", "c"] { try await store.createLogStream(group: "other", name: s, now: now) }
        _ = try await append(store, "other", "c", [(now - 5, "x")])
        _ = try await append(store, "other", "a", [(now - 1, "x")])
        let byTime = try await store.describeLogStreams(LogStreamQuery(group: "other", orderBy: .lastEventTime, descending: true))
        #expect(byTime.items.map(\.name) == ["a", "c", "b"])
        let firstPage = try await store.describeLogStreams(LogStreamQuery(group: "other", limit: 2))
        #expect(firstPage.items.map(\.name) == ["a", "b"])
        let second = try await store.describeLogStreams(LogStreamQuery(group: "other", limit: 2, nextToken: firstPage.nextToken))
        #expect(second.items.map(\.name) == ["c"])
        #expect(second.nextToken == nil)
    }
}
