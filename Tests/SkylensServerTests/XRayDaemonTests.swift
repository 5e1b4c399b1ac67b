import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SkylensCore
import SkylensServer
import SkylensStorage
import SkylensTesting
import Testing

/// The daemon's UDP side on its own: datagrams taken off the socket wait for the parser; once the backlog is full,
/// new ones are dropped and counted (as a full socket buffer drops them), and the ones kept are parsed and stored,
/// a bounded batch at a time, when the daemon runs.
struct XRayDaemonTests {
    static let now = Int64(Date().timeIntervalSince1970)

    /// A store and its writer in a temporary data directory (the caller removes `dir`), a wall clock at `now`, a logger.
    static func fixture() throws -> (database: SkylensDatabase, store: SQLiteTraceStore, writer: TraceWriter, clock: ManualWallClock,
                                     logger: Logger, dir: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-daemon-\(UUID().uuidString)").path
        let clock = ManualWallClock(now * 1000)
        let logger = Logger(label: "xray-daemon-test")
        let database = try SkylensDatabase(directory: dir)
        let store = SQLiteTraceStore(database: database)
        return (database, store, TraceWriter(store: store, wallClock: clock, logger: logger), clock, logger, dir)
    }

    /// Runs the daemon and its writer as the collector does, calls `body`, then shuts both down gracefully (the daemon
    /// writes what it still has).
    static func running(_ daemon: XRayDaemon, _ writer: TraceWriter, _ logger: Logger, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [.init(service: writer), .init(service: daemon)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Trace `i`'s id (started now).
    static func traceID(_ i: Int) -> String { "1-\(String(now, radix: 16))-\(String(format: "%024x", i))" }

    /// The root segment of trace `i`, or with `parent` a downstream segment of it (`id` then tells it apart).
    static func datagram(_ i: Int, parent: String? = nil, id: Int? = nil) -> [UInt8] {
        let trace = traceID(i)
        let id = String(format: "%016x", id ?? i + 1)
        let parentMember = parent.map { #","parent_id":"\#($0)""# } ?? ""
        return Array(#"{"format":"json","version":1}"#.utf8) + [0x0A]
            + Array(#"{"trace_id":"\#(trace)","id":"\#(id)","name":"svc","start_time":\#(now),"end_time":\#(now + 1)\#(parentMember)}"#.utf8)
    }

    @Test func aFullBacklogDropsNewDatagramsAndKeepsTheRest() async throws {
        let (_, store, writer, clock, logger, dir) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Batches of four: the ten kept are parsed as 4, 4 and 2.
        let daemon = try XRayDaemon.bind(host: "127.0.0.1", port: 0, maxPending: 10, maxBatch: 4, writer: writer, wallClock: clock,
                                         logger: logger)

        // Sent before the daemon runs: ten wait, fifteen find the backlog full.
        for i in 0..<25 { try sendDatagram(Self.datagram(i), port: daemon.port) }
        _ = try await eventually("every datagram taken off the socket") { daemon.waiting + daemon.dropped == 25 ? true : nil }
        #expect(daemon.waiting == 10)
        #expect(daemon.dropped == 15)

        try await Self.running(daemon, writer, logger) {
            _ = try await eventually("the kept datagrams stored") { writer.stored.withLock { $0 } == 10 ? true : nil }
        }
        #expect(daemon.counts.withLock { $0.accepted } == 10)
        #expect(daemon.dropped == 15)
        let ids = (0..<25).map(Self.traceID)
        #expect(try await store.traces(ids: ids).map(\.facts.id) == Array(ids[0..<10]))
    }

    /// Datagrams arriving within the gather window of the first one waiting are parsed and committed together (one
    /// block of documents), not each burst as it is taken off the socket; a full batch is not kept waiting. (The window
    /// is a minute, so that only the full batch ends it here.)
    @Test func datagramsArrivingWithinTheGatherWindowAreCommittedTogether() async throws {
        let (database, _, writer, clock, logger, dir) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try XRayDaemon.bind(host: "127.0.0.1", port: 0, maxBatch: 3, gather: .seconds(60), writer: writer,
                                         wallClock: clock, logger: logger)
        try await Self.running(daemon, writer, logger) {
            // Each one taken off the socket (a burst of its own) before the next is sent: the first two wait, and the
            // third makes a full batch.
            for i in 0..<2 {
                try sendDatagram(Self.datagram(i), port: daemon.port)
                _ = try await eventually("datagram \(i) waiting") { daemon.waiting == i + 1 ? true : nil }
            }
            try sendDatagram(Self.datagram(2), port: daemon.port)
            _ = try await eventually("the three stored") { writer.stored.withLock { $0 } == 3 ? true : nil }
        }
        #expect(try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM trace_block") } == 1)
    }

    /// A document sent before its trace's root waits for it, and the trace is written once, in the root's commit
    /// (the gather window is a millisecond here: without the wait, each would be a commit of its own); a document
    /// whose root never comes is written once it has waited the limit, with no other datagram arriving.
    @Test func documentsWaitForTheirTracesRoot() async throws {
        let (database, store, writer, clock, logger, dir) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try XRayDaemon.bind(host: "127.0.0.1", port: 0, gather: .milliseconds(1), holdLimit: .milliseconds(300),
                                         writer: writer, wallClock: clock, logger: logger)
        func blocks() async throws -> Int? {
            try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM trace_block") }
        }
        try await Self.running(daemon, writer, logger) {
            try sendDatagram(Self.datagram(1, parent: "00000000000000aa", id: 100), port: daemon.port)
            _ = try await eventually("the downstream segment held") { daemon.held == 1 ? true : nil }
            #expect(writer.stored.withLock { $0 } == 0)
            try sendDatagram(Self.datagram(1), port: daemon.port)
            _ = try await eventually("the trace stored") { writer.stored.withLock { $0 } == 2 ? true : nil }
            #expect(try await blocks() == 1)
            #expect(daemon.held == 0)

            try sendDatagram(Self.datagram(2, parent: "00000000000000aa", id: 200), port: daemon.port)
            _ = try await eventually("the rootless segment stored") { writer.stored.withLock { $0 } == 3 ? true : nil }
            #expect(try await blocks() == 2)
        }
        let ids = [1, 2].map(Self.traceID)
        #expect(try await store.traces(ids: ids).map { $0.documents.count } == [2, 1])
    }

    /// Documents waiting for a root that PutTraceSegments stored are written once the daemon is told, not after the
    /// limit (an hour here); another trace's keep waiting.
    @Test func documentsGoWhenTheirRootIsStoredElsewhere() async throws {
        let (_, store, writer, clock, logger, dir) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try XRayDaemon.bind(host: "127.0.0.1", port: 0, gather: .milliseconds(1), holdLimit: .seconds(3600),
                                         writer: writer, wallClock: clock, logger: logger)
        let ids = [4, 5].map(Self.traceID)
        try await Self.running(daemon, writer, logger) {
            try sendDatagram(Self.datagram(4, parent: "00000000000000aa", id: 400), port: daemon.port)
            try sendDatagram(Self.datagram(5, parent: "00000000000000aa", id: 500), port: daemon.port)
            _ = try await eventually("both downstream segments held") { daemon.held == 2 ? true : nil }
            daemon.rootsStored([try #require(TraceKey(ids[0]))])
            _ = try await eventually("trace 4's segment stored") { writer.stored.withLock { $0 } == 1 ? true : nil }
            #expect(daemon.held == 1)
        }
        #expect(try await store.traces(ids: ids).map { $0.documents.count } == [1, 1])
    }

    /// Documents still waiting for their root when the collector stops are written, not lost.
    @Test func documentsWaitingAtShutdownAreWritten() async throws {
        let (_, store, writer, clock, logger, dir) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try XRayDaemon.bind(host: "127.0.0.1", port: 0, gather: .milliseconds(1), holdLimit: .seconds(3600),
                                         writer: writer, wallClock: clock, logger: logger)
        try await Self.running(daemon, writer, logger) {
            try sendDatagram(Self.datagram(3, parent: "00000000000000aa", id: 300), port: daemon.port)
            _ = try await eventually("the downstream segment held") { daemon.held == 1 ? true : nil }
        }
        #expect(writer.stored.withLock { $0 } == 1)
        #expect(daemon.held == 0)
        #expect(try await store.traces(ids: [Self.traceID(3)]).map { $0.documents.count } == [1])
    }

    /// A port held by one daemon is refused to another, so that two collectors started with port 0 at once never
    /// share a UDP port (Linux lets two UDP sockets that both ask for address reuse bind one port, and the second
    /// collector then failed on the port's TCP side).
    @Test func aDaemonPortIsNotShared() async throws {
        let (_, _, writer, clock, logger, dir) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try XRayDaemon.bind(host: "127.0.0.1", port: 0, writer: writer, wallClock: clock, logger: logger)
        #expect(throws: (any Error).self) {
            _ = try XRayDaemon.bind(host: "127.0.0.1", port: daemon.port, writer: writer, wallClock: clock, logger: logger)
        }
        try await Self.running(daemon, writer, logger) {}
    }
}
