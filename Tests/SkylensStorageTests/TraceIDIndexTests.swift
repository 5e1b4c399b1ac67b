import Foundation
import GRDB
import SkylensCore
import SkylensStorage
import Testing

/// The id index is written in key order from time to time: until then a new trace is found through the store's
/// unindexed rows, in this store and in one opened afresh; a failed commit leaves none of its rows there; retention
/// keeps the index and the rows in step.
extension TraceStoreTests {
    static func traceID(_ i: Int) -> String { "1-6b49d200-" + String(format: "%024x", i) }

    static func single(_ i: Int, id: String = "a000000000000001", name: String = "api", start: Double = 1_800_000_000) throws -> SegmentDocument {
        try document(#"{"trace_id":"\#(traceID(i))","id":"\#(id)","name":"\#(name)","start_time":\#(start),"end_time":\#(start + 1)}"#)
    }

    func store(_ dir: String, unindexedLimit: Int = 50_000) throws -> SQLiteTraceStore {
        SQLiteTraceStore(database: try SkylensDatabase(directory: dir), unindexedLimit: unindexedLimit)
    }

    static func found(_ store: SQLiteTraceStore, _ i: Int) async throws -> [String] {
        try await store.traces(ids: [traceID(i)]).map(\.facts.id)
    }

    @Test func newTracesAreFoundByIDBeforeAndAfterTheirIDsAreIndexed() async throws {
        let now = Self.now * 1000
        try await withDirectory { dir in
            let first = try store(dir, unindexedLimit: 3)
            try await first.append([Self.single(0), Self.single(1)], now: now)
            #expect(try await Self.count(first, "SELECT COUNT(*) FROM trace_by_id") == 0)
            for i in 0..<2 { #expect(try await Self.found(first, i) == [Self.traceID(i)]) }

            // A store opened afresh (nothing cached) reads the unindexed rows back and continues a trace in its row.
            let second = try store(dir, unindexedLimit: 3)
            try await second.append([Self.single(0, id: "b000000000000001", name: "late")], now: now)
            #expect(try await Self.count(second, "SELECT COUNT(*) FROM trace") == 2)
            #expect(try await second.traces(ids: [Self.traceID(0)]).first?.documents.map(\.id) == ["a000000000000001", "b000000000000001"])

            // The commit that brings them to the limit writes every id, its own trace's too.
            try await second.append([Self.single(2)], now: now)
            #expect(try await Self.count(second, "SELECT COUNT(*) FROM trace_by_id") == 3)
            #expect(try await Self.count(second, "SELECT through FROM trace_by_id_state") == 3)
            #expect(try await Self.count(second, "SELECT COUNT(*) FROM trace_by_id WHERE id = x'6b49d200000000000000000000000002'") == 1)

            // Found through the index alone, and continued in place.
            let third = try store(dir)
            for i in 0..<3 { #expect(try await Self.found(third, i) == [Self.traceID(i)]) }
            try await third.append([Self.single(1, id: "c000000000000001", name: "third"), Self.single(3)], now: now)
            #expect(try await Self.count(third, "SELECT COUNT(*) FROM trace") == 4)
            #expect(try await third.traces(ids: [Self.traceID(1)]).first?.documents.count == 2)
            // The first store, whose unindexed rows are out of date (another connection added trace 3), reads them
            // again and continues trace 3 in its row instead of adding one.
            try await first.append([Self.single(3, id: "d000000000000001", name: "fourth")], now: now)
            #expect(try await Self.count(first, "SELECT COUNT(*) FROM trace") == 4)
            // Maintenance writes the rest.
            try await third.flushIndex()
            #expect(try await Self.count(third, "SELECT COUNT(*) FROM trace_by_id") == 4)
            #expect(try await Self.found(third, 3) == [Self.traceID(3)])
        }
    }

    /// New rows are inserted many to a statement under rowids the store gives them (the table's last one on): a
    /// commit of more than two statements' worth and a remainder, after a row of an earlier commit, takes the rowids
    /// after it in order, and each trace is found by its id through its rowid, before and after the ids are indexed.
    @Test func newRowsInsertedManyToAStatementTakeTheRowidsAfterTheLast() async throws {
        let now = Self.now * 1000
        try await withDirectory { dir in
            let store = try store(dir)
            try await store.append([Self.single(0)], now: now)
            let n = 130
            try await store.append(try (1...n).map { try Self.single($0, name: "svc\($0)") }, now: now)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace") == n + 1)
            #expect(try await Self.count(store, "SELECT max(rowid) FROM trace") == n + 1)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace WHERE trace_id = '1-6b49d200-' || printf('%024x', rowid - 1)") == n + 1)
            for i in 0...n { #expect(try await Self.found(store, i) == [Self.traceID(i)]) }
            let services = Dictionary(uniqueKeysWithValues: try await store.traces(ids: (1...n).map(Self.traceID)).map {
                ($0.facts.id, $0.facts.services.map(\.id.name))
            })
            #expect(services == Dictionary(uniqueKeysWithValues: (1...n).map { (Self.traceID($0), ["svc\($0)"]) }))
            try await store.flushIndex()
            let fresh = try self.store(dir)
            for i in 0...n { #expect(try await Self.found(fresh, i) == [Self.traceID(i)]) }
        }
    }

    /// A commit that fails after staging its new rows (writing trace 1's id is refused by a trigger) leaves none of
    /// them: the next commit does not write trace 1's id, trace 1 is not found, and trace 2, which takes the rowid
    /// trace 1 had, is not taken for it.
    @Test func aFailedCommitLeavesNoUnindexedRowBehind() async throws {
        let now = Self.now * 1000
        try await withDirectory { dir in
            let store = try store(dir, unindexedLimit: 2)
            try await store.database.pool.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER refuse BEFORE INSERT ON trace_by_id WHEN NEW.id = x'6b49d200000000000000000000000001'
                    BEGIN SELECT RAISE(ABORT, 'refused'); END
                    """)
            }
            try await store.append([Self.single(0)], now: now)
            await #expect(throws: (any Error).self) { try await store.append([Self.single(1)], now: now) }
            try await store.append([Self.single(2)], now: now)
            try await store.database.pool.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
            #expect(try await Self.found(store, 1).isEmpty)
            #expect(try await Self.found(store, 2) == [Self.traceID(2)])
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace") == 2)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_by_id") == 2)
        }
    }

    /// Retention deletes traces' ids with their rows; after the newest row went, a new trace takes its rowid and is
    /// still found, by this store and by one opened afresh before its id is indexed.
    @Test func retentionKeepsTheIDIndexInStep() async throws {
        let now = Self.now * 1000
        try await withDirectory { dir in
            let store = try store(dir)
            // The newest row holds the oldest trace.
            try await store.append([Self.single(0, start: 1_800_000_005)], now: now)
            try await store.append([Self.single(1, start: 1_800_000_000)], now: now)
            #expect(try await store.deleteTraces(before: 1_800_000_003) == 1)
            #expect(try await Self.count(store, "SELECT COUNT(*) FROM trace_by_id") == 1)
            #expect(try await Self.found(store, 1).isEmpty)

            try await store.append([Self.single(2)], now: now)
            #expect(try await Self.count(store, "SELECT max(rowid) FROM trace") == 2)
            let fresh = try self.store(dir)
            for i in [0, 2] {
                #expect(try await Self.found(store, i) == [Self.traceID(i)])
                #expect(try await Self.found(fresh, i) == [Self.traceID(i)])
            }
            #expect(try await Self.found(fresh, 1).isEmpty)
            try await fresh.flushIndex()
            #expect(try await Self.count(fresh, "SELECT COUNT(*) FROM trace_by_id") == 2)
        }
    }
}
