import Foundation
import GRDB
import SkylensCore

/// Background work on stored logs: sealing the hot tier into blocks and deleting data past retention.
extension SQLiteLogStore {
    /// Seals the hot events of every stream that holds at least `sealBytes` of them, or whose oldest hot event was
    /// ingested before `olderThan`. Returns the number of events sealed.
    package func sealHotEvents(olderThan: Int64) async throws -> Int {
        let candidates = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT stream_id FROM hot_event GROUP BY stream_id
                HAVING SUM(length(message)) >= ? OR MIN(ingestion) < ?
                """, arguments: [sealBytes, olderThan]).map { $0[0] as Int64 }
        }
        var sealed = 0
        for streamID in candidates {
            sealed += try await seal(streamID: streamID)
        }
        return sealed
    }

    /// The number of events in the hot tier (not yet sealed into blocks).
    package func hotEventCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hot_event") ?? 0 }
    }

    /// Moves all hot events of one stream into a single block, in one transaction.
    private func seal(streamID: Int64) async throws -> Int {
        let level = compressionLevel
        return try await pool.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT seq, group_id, ts, ingestion, message FROM hot_event WHERE stream_id = ? ORDER BY seq
                """, arguments: [streamID])
            guard let first = rows.first else { return 0 }
            let baseSeq: Int64 = first[0]
            let groupID: Int64 = first[1]
            var columns = BlockCodec.Columns()
            var hotBytes = 0
            for row in rows {
                columns.seqOffsets.append((row[0] as Int64) - baseSeq)
                columns.timestamps.append(row[2])
                columns.ingestionTimes.append(row[3])
                try row.withUnsafeData(atIndex: 4) { data in
                    if let data { columns.bytes.append(contentsOf: data) }
                }
                columns.offsets.append(columns.bytes.count)
                hotBytes += columns.offsets[columns.offsets.count - 1] - columns.offsets[columns.offsets.count - 2]
            }
            let payload = try BlockCodec.encode(columns, level: level)
            try Self.insertBlock(db, groupID: groupID, streamID: streamID, baseSeq: baseSeq, count: rows.count,
                                 minTs: columns.timestamps.min() ?? 0, maxTs: columns.timestamps.max() ?? 0, payload: payload)
            let lastSeq: Int64 = rows[rows.count - 1][0]
            try db.execute(sql: "DELETE FROM hot_event WHERE stream_id = ? AND seq <= ?", arguments: [streamID, lastSeq])
            try db.execute(sql: "UPDATE log_stream SET stored_bytes = stored_bytes + ? WHERE id = ?",
                           arguments: [payload.bytes.count - hotBytes, streamID])
            return rows.count
        }
    }

    /// Deletes blocks and hot events older than their group's retention period. Returns the events removed.
    package func sweepExpired(now: Int64) async throws -> Int {
        try await pool.write { db in
            var removed = 0
            let groups = try Row.fetchAll(db, sql: "SELECT id, retention_days FROM log_group WHERE retention_days IS NOT NULL")
            for group in groups {
                let gid: Int64 = group[0]
                let days: Int64 = group[1]
                let cutoff = now - days * 86_400_000
                // Blocks go whole, once their newest event has expired.
                for row in try Row.fetchAll(db, sql: """
                    SELECT stream_id, SUM(length(data)), SUM(count) FROM block WHERE group_id = ? AND max_ts < ? GROUP BY stream_id
                    """, arguments: [gid, cutoff]) {
                    try db.execute(sql: "UPDATE log_stream SET stored_bytes = stored_bytes - ? WHERE id = ?", arguments: [row[1], row[0]])
                    removed += row[2] as Int
                }
                try db.execute(sql: "DELETE FROM block WHERE group_id = ? AND max_ts < ?", arguments: [gid, cutoff])
                for row in try Row.fetchAll(db, sql: """
                    SELECT stream_id, SUM(length(message)), COUNT(*) FROM hot_event WHERE group_id = ? AND ts < ? GROUP BY stream_id
                    """, arguments: [gid, cutoff]) {
                    try db.execute(sql: "UPDATE log_stream SET stored_bytes = stored_bytes - ? WHERE id = ?", arguments: [row[1], row[0]])
                    removed += row[2] as Int
                }
                try db.execute(sql: "DELETE FROM hot_event WHERE group_id = ? AND ts < ?", arguments: [gid, cutoff])
            }
            return removed
        }
    }
}
