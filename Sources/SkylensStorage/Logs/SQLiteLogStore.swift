import Foundation
import GRDB
import SkylensCore

/// The SQLite implementation of the `LogStore` port: log groups and streams as rows, events in the hot tier
/// (`hot_event`, one row per event) until the sealer compresses them into `block` rows.
///
/// ```
/// PutLogEvents ──► append ──┬─ batch ≥ sealBytes: block row (compressed before the writer's transaction)
///                           └─ smaller: hot_event rows ──► sealHotEvents (by size or age) ──► block row
/// ```
package final class SQLiteLogStore: LogStore {
    package let database: SkylensDatabase
    /// Compression level (zlib's scale, 1–9) used for blocks.
    package let compressionLevel: Int32
    /// Hot events of one stream are sealed into a block once they reach this many bytes.
    package let sealBytes: Int

    var pool: DatabasePool { database.pool }

    package init(database: SkylensDatabase, compressionLevel: Int32 = 6, sealBytes: Int = 65_536) {
        self.database = database
        self.compressionLevel = compressionLevel
        self.sealBytes = sealBytes
    }

    /// Compresses a batch large enough to skip the hot tier into its block, ready for ``append(_:)``.
    package func prepareForAppend(_ request: inout AppendRequest) throws {
        guard request.sealedBlock == nil, request.events.bytes.count >= sealBytes else { return }
        request.sealedBlock = try BlockCodec.encode(request.events, ingestionTime: request.ingestionTime, level: compressionLevel)
    }

    // MARK: groups

    package func createLogGroup(_ name: String, tags: [String: String], now: Int64) async throws {
        let tagsJSON = try Self.encodeTags(tags)
        try await pool.write { db in
            if try Self.groupID(db, name) != nil { throw LogsError.groupExists }
            try db.execute(sql: "INSERT INTO log_group (name, creation_time, tags) VALUES (?, ?, ?)",
                           arguments: [name, now, tagsJSON])
        }
    }

    package func deleteLogGroup(_ name: String) async throws {
        try await pool.write { db in
            guard let id = try Self.groupID(db, name) else { throw LogsError.groupNotFound }
            try db.execute(sql: "DELETE FROM block WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM hot_event WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM log_stream WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM metric_filter WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM log_group WHERE id = ?", arguments: [id])
        }
    }

    package func describeLogGroups(_ query: LogGroupQuery) async throws -> Page<LogGroupInfo> {
        let after: String
        if let token = query.nextToken {
            guard token.hasPrefix("g/") else { throw LogsError.invalidToken }
            after = String(token.dropFirst(2))
        } else {
            after = ""
        }
        let limit = query.limit
        return try await pool.read { db in
            var sql = """
                SELECT g.name, g.creation_time, g.retention_days,
                       (SELECT COALESCE(SUM(s.stored_bytes), 0) FROM log_stream s WHERE s.group_id = g.id),
                       (SELECT COUNT(*) FROM metric_filter f WHERE f.group_id = g.id)
                FROM log_group g WHERE g.name > ?
                """
            var args: StatementArguments = [after]
            if let prefix = query.prefix {
                sql += " AND substr(g.name, 1, ?) = ?"
                args += [prefix.count, prefix]
            }
            if let pattern = query.pattern {
                sql += " AND instr(lower(g.name), lower(?)) > 0"
                args += [pattern]
            }
            sql += " ORDER BY g.name LIMIT ?"
            args += [limit + 1]
            let rows = try Row.fetchAll(db, sql: sql, arguments: args)
            let groups = rows.prefix(limit).map { row in
                LogGroupInfo(name: row[0], creationTime: row[1], retentionInDays: row[2], metricFilterCount: row[4], storedBytes: row[3])
            }
            let next = rows.count > limit ? groups.last.map { "g/" + $0.name } : nil
            return Page(items: Array(groups), nextToken: next)
        }
    }

    package func retention(ofGroup name: String) async throws -> Int? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT retention_days FROM log_group WHERE name = ?", arguments: [name]) else {
                throw LogsError.groupNotFound
            }
            return row[0]
        }
    }

    package func putRetentionPolicy(group: String, days: Int?) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE log_group SET retention_days = ? WHERE name = ?", arguments: [days, group])
            if db.changesCount == 0 { throw LogsError.groupNotFound }
        }
    }

    // MARK: tags

    package func tags(ofGroup name: String) async throws -> [String: String] {
        let json = try await pool.read { db in
            guard let json = try String.fetchOne(db, sql: "SELECT tags FROM log_group WHERE name = ?", arguments: [name]) else {
                throw LogsError.groupNotFound
            }
            return json
        }
        return try Self.decodeTags(json)
    }

    package func tagGroup(_ name: String, add: [String: String], remove: [String]) async throws {
        try await pool.write { db in
            guard let json = try String.fetchOne(db, sql: "SELECT tags FROM log_group WHERE name = ?", arguments: [name]) else {
                throw LogsError.groupNotFound
            }
            var tags = try Self.decodeTags(json)
            tags.merge(add) { _, new in new }
            for key in remove { tags[key] = nil }
            guard tags.count <= 50 else { throw LogsError(.invalidParameter, "A log group can have at most 50 tags.") }
            try db.execute(sql: "UPDATE log_group SET tags = ? WHERE name = ?", arguments: [try Self.encodeTags(tags), name])
        }
    }

    static func encodeTags(_ tags: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(tags), as: UTF8.self)
    }

    static func decodeTags(_ json: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }

    // MARK: streams

    package func createLogStream(group: String, name: String, now: Int64) async throws {
        try await pool.write { db in
            guard let gid = try Self.groupID(db, group) else { throw LogsError.groupNotFound }
            if try Self.streamRow(db, groupID: gid, name: name) != nil { throw LogsError.streamExists }
            try db.execute(sql: "INSERT INTO log_stream (group_id, name, creation_time) VALUES (?, ?, ?)",
                           arguments: [gid, name, now])
        }
    }

    package func deleteLogStream(group: String, name: String) async throws {
        try await pool.write { db in
            guard let gid = try Self.groupID(db, group) else { throw LogsError.groupNotFound }
            guard let stream = try Self.streamRow(db, groupID: gid, name: name) else { throw LogsError.streamNotFound }
            try db.execute(sql: "DELETE FROM block WHERE stream_id = ?", arguments: [stream.id])
            try db.execute(sql: "DELETE FROM hot_event WHERE stream_id = ?", arguments: [stream.id])
            try db.execute(sql: "DELETE FROM log_stream WHERE id = ?", arguments: [stream.id])
        }
    }

    package func describeLogStreams(_ query: LogStreamQuery) async throws -> Page<LogStreamInfo> {
        let offset: Int
        if let token = query.nextToken {
            guard token.hasPrefix("s/"), let n = Int(token.dropFirst(2)), n >= 0 else { throw LogsError.invalidToken }
            offset = n
        } else {
            offset = 0
        }
        return try await pool.read { db in
            guard let gid = try Self.groupID(db, query.group) else { throw LogsError.groupNotFound }
            var sql = """
                SELECT name, creation_time, first_event, last_event, last_ingestion, stored_bytes
                FROM log_stream WHERE group_id = ?
                """
            var args: StatementArguments = [gid]
            if let prefix = query.prefix {
                sql += " AND substr(name, 1, ?) = ?"
                args += [prefix.count, prefix]
            }
            let dir = query.descending ? "DESC" : "ASC"
            switch query.orderBy {
            case .logStreamName: sql += " ORDER BY name \(dir)"
            case .lastEventTime: sql += " ORDER BY COALESCE(last_event, 0) \(dir), name \(dir)"
            }
            sql += " LIMIT ? OFFSET ?"
            args += [query.limit + 1, offset]
            let rows = try Row.fetchAll(db, sql: sql, arguments: args)
            let streams = rows.prefix(query.limit).map { row in
                LogStreamInfo(name: row[0], creationTime: row[1], firstEventTimestamp: row[2], lastEventTimestamp: row[3],
                              lastIngestionTime: row[4], storedBytes: row[5])
            }
            let next = rows.count > query.limit ? "s/\(offset + query.limit)" : nil
            return Page(items: Array(streams), nextToken: next)
        }
    }

    // MARK: lookups

    struct StreamRow {
        var id: Int64
        var nextSeq: Int64
    }

    static func groupID(_ db: Database, _ name: String) throws -> Int64? {
        try Int64.fetchOne(db, cachedSQL: "SELECT id FROM log_group WHERE name = ?", arguments: [name])
    }

    static func streamRow(_ db: Database, groupID: Int64, name: String) throws -> StreamRow? {
        guard let row = try Row.fetchOne(db, cachedSQL: "SELECT id, next_seq FROM log_stream WHERE group_id = ? AND name = ?",
                                         arguments: [groupID, name]) else { return nil }
        return StreamRow(id: row[0], nextSeq: row[1])
    }
}

extension Int64 {
    static func fetchOne(_ db: Database, cachedSQL sql: String, arguments: StatementArguments) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension Row {
    static func fetchOne(_ db: Database, cachedSQL sql: String, arguments: StatementArguments) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}
