import Foundation
import GRDB
import SkylensCore

/// Metric filter definitions, kept beside their log groups (and deleted with them).
extension SQLiteLogStore: MetricFilterStore {
    package func allMetricFilters() async throws -> [StoredMetricFilter] {
        // Rows are not Sendable: map them inside the read so that the asynchronous read is used.
        let rows = try await pool.read { db -> [(String, String, String, String, Int64)] in
            try Row.fetchAll(db, sql: """
                SELECT g.name, f.name, f.pattern, f.transformation, f.creation_time
                FROM metric_filter f JOIN log_group g ON g.id = f.group_id ORDER BY g.name, f.name
                """).map { ($0[0], $0[1], $0[2], $0[3], $0[4]) }
        }
        return try rows.map { row in
            StoredMetricFilter(group: row.0, name: row.1, pattern: row.2, transformation: try Self.decodeTransformation(row.3),
                               creationTime: row.4)
        }
    }

    package func putMetricFilter(_ definition: StoredMetricFilter) async throws {
        let json = Self.encodeTransformation(definition.transformation)
        try await pool.write { db in
            guard let gid = try Self.groupID(db, definition.group) else { throw LogsError.groupNotFound }
            try db.execute(sql: """
                INSERT INTO metric_filter (group_id, name, pattern, transformation, creation_time) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern, transformation = excluded.transformation
                """, arguments: [gid, definition.name, definition.pattern, json, definition.creationTime])
        }
    }

    package func deleteMetricFilter(group: String, name: String) async throws {
        try await pool.write { db in
            guard let gid = try Self.groupID(db, group) else { throw LogsError.groupNotFound }
            try db.execute(sql: "DELETE FROM metric_filter WHERE group_id = ? AND name = ?", arguments: [gid, name])
            if db.changesCount == 0 { throw LogsError(.resourceNotFound, "The specified metric filter does not exist.") }
        }
    }

    static func encodeTransformation(_ t: MetricFilter.Transformation) -> String {
        var object: [String: Any] = [
            "metricName": t.metricName, "metricNamespace": t.metricNamespace, "metricValue": t.metricValue,
            "dimensions": t.dimensions, "unit": t.unit.rawValue,
        ]
        if let d = t.defaultValue { object["defaultValue"] = d }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeTransformation(_ json: String) throws -> MetricFilter.Transformation {
        guard let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let name = o["metricName"] as? String, let ns = o["metricNamespace"] as? String, let value = o["metricValue"] as? String
        else { throw StorageError(.corrupt, "unreadable metric transformation") }
        return MetricFilter.Transformation(
            metricName: name, metricNamespace: ns, metricValue: value, defaultValue: (o["defaultValue"] as? NSNumber)?.doubleValue,
            dimensions: o["dimensions"] as? [String: String] ?? [:],
            unit: (o["unit"] as? String).flatMap(MetricUnit.init(rawValue:)) ?? .none)
    }
}
