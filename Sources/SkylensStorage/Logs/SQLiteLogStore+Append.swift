import Foundation
import GRDB
import SkylensCore

extension SQLiteLogStore {
    /// Commits all `batches` in one transaction (a group commit): each gets its stream's next sequence numbers.
    /// A batch for a missing group or stream fails alone; the others still commit.
    package func append(_ batches: [AppendRequest]) async throws -> [Result<AppendReceipt, LogsError>] {
        try await pool.write { db in
            var results: [Result<AppendReceipt, LogsError>] = []
            results.reserveCapacity(batches.count)
            for request in batches {
                guard let gid = try Self.groupID(db, request.group) else {
                    results.append(.failure(.groupNotFound))
                    continue
                }
                guard let stream = try Self.streamRow(db, groupID: gid, name: request.stream) else {
                    results.append(.failure(.streamNotFound))
                    continue
                }
                let events = request.events
                let firstSeq = stream.nextSeq
                var added: Int64
                if let block = request.sealedBlock {
                    try Self.insertBlock(db, groupID: gid, streamID: stream.id, baseSeq: firstSeq, count: events.count,
                                         minTs: events.timestamps.min() ?? 0, maxTs: events.timestamps.max() ?? 0, payload: block)
                    added = Int64(block.bytes.count)
                } else {
                    added = 0
                    let insert = try db.cachedStatement(
                        sql: "INSERT INTO hot_event (stream_id, seq, group_id, ts, ingestion, message) VALUES (?, ?, ?, ?, ?, ?)")
                    for i in 0..<events.count {
                        let message = Data(events.bytes[events.range(i)])
                        insert.setUncheckedArguments([stream.id, firstSeq + Int64(i), gid, events.timestamps[i],
                                                      request.ingestionTime, message])
                        try insert.execute()
                        added += Int64(message.count)
                    }
                }
                try db.execute(
                    sql: """
                        UPDATE log_stream SET next_seq = next_seq + ?,
                            first_event = min(COALESCE(first_event, ?), ?),
                            last_event = max(COALESCE(last_event, ?), ?),
                            last_ingestion = ?, stored_bytes = stored_bytes + ?
                        WHERE id = ?
                        """,
                    arguments: [events.count, events.timestamps.first, events.timestamps.min(), events.timestamps.last,
                                events.timestamps.max(), request.ingestionTime, added, stream.id])
                results.append(.success(AppendReceipt(streamID: stream.id, firstSeq: firstSeq)))
            }
            return results
        }
    }

    static func insertBlock(_ db: Database, groupID: Int64, streamID: Int64, baseSeq: Int64, count: Int,
                            minTs: Int64, maxTs: Int64, payload: EncodedBlockPayload) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO block (group_id, stream_id, min_ts, max_ts, base_seq, count, raw_bytes, data)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.setUncheckedArguments([groupID, streamID, minTs, maxTs, baseSeq, count, payload.rawBytes, Data(payload.bytes)])
        try statement.execute()
    }
}
