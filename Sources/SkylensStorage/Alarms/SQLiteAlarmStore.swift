import Foundation
import GRDB
import SkylensCore

/// The SQLite implementation of the `AlarmStore` port.
///
/// ```
/// alarm (name, configuration JSON, state, reason, reason data, timestamps)
/// alarm_history (alarm name, timestamp, kind, summary, data)
/// ```
package final class SQLiteAlarmStore: AlarmStore {
    package let database: SkylensDatabase

    package init(database: SkylensDatabase) { self.database = database }

    package func put(_ alarm: MetricAlarm, now: Int64) async throws -> StoredAlarm {
        let configuration = try Self.encode(alarm)
        return try await database.pool.write { db in
            let existing = try Self.fetch(db, "SELECT * FROM alarm WHERE name = ?", [alarm.name]).first
            let stored: StoredAlarm
            if var updated = existing {
                updated.alarm = alarm
                updated.configurationUpdated = now
                try db.execute(sql: "UPDATE alarm SET configuration = ?, configuration_updated = ? WHERE name = ?",
                               arguments: [configuration, now, alarm.name])
                stored = updated
            } else {
                stored = StoredAlarm(alarm: alarm, state: .insufficientData, reason: StoredAlarm.initialReason, reasonData: nil,
                                     stateUpdated: now, stateTransitioned: now, configurationUpdated: now)
                try db.execute(sql: """
                    INSERT INTO alarm (name, configuration, state, reason, reason_data, state_updated, state_transitioned,
                                       configuration_updated)
                    VALUES (?, ?, ?, ?, NULL, ?, ?, ?)
                    """, arguments: [alarm.name, configuration, stored.state.rawValue, stored.reason, now, now, now])
            }
            let verb = existing == nil ? "created" : "updated"
            try Self.insert(db, AlarmHistoryItem(alarmName: alarm.name, timestamp: now, kind: .configurationUpdate,
                                                 summary: "Alarm \"\(alarm.name)\" \(verb)",
                                                 data: "{\"version\":\"1.0\",\"type\":\"\(existing == nil ? "Create" : "Update")\"}"))
            return stored
        }
    }

    package func alarms(names: [String]?, prefix: String?, state: AlarmState?) async throws -> [StoredAlarm] {
        try await database.pool.read { db in
            var sql = "SELECT * FROM alarm WHERE 1 = 1"
            var args: StatementArguments = []
            if let names {
                guard !names.isEmpty else { return [] }
                sql += " AND name IN (\(names.map { _ in "?" }.joined(separator: ",")))"
                args += StatementArguments(names)
            }
            if let prefix {
                // A prefix match that LIKE's wildcards cannot widen.
                sql += " AND substr(name, 1, length(?)) = ?"
                args += [prefix, prefix]
            }
            if let state { sql += " AND state = ?"; args += [state.rawValue] }
            return try Self.fetch(db, sql + " ORDER BY name", args)
        }
    }

    package func delete(names: [String]) async throws -> [String] {
        try await database.pool.write { db in
            var missing: [String] = []
            for name in names {
                try db.execute(sql: "DELETE FROM alarm WHERE name = ?", arguments: [name])
                if db.changesCount == 0 { missing.append(name); continue }
                try db.execute(sql: "DELETE FROM alarm_history WHERE alarm_name = ?", arguments: [name])
            }
            return missing
        }
    }

    package func setActionsEnabled(names: [String], enabled: Bool, now: Int64) async throws -> [String] {
        try await database.pool.write { db in
            var missing: [String] = []
            for name in names {
                guard var stored = try Self.fetch(db, "SELECT * FROM alarm WHERE name = ?", [name]).first else {
                    missing.append(name)
                    continue
                }
                stored.alarm.actionsEnabled = enabled
                try db.execute(sql: "UPDATE alarm SET configuration = ?, configuration_updated = ? WHERE name = ?",
                               arguments: [try Self.encode(stored.alarm), now, name])
            }
            return missing
        }
    }

    package func setStates(_ changes: [AlarmStateChange], now: Int64) async throws -> [String] {
        guard !changes.isEmpty else { return [] }
        return try await database.pool.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE alarm SET state_transitioned = CASE WHEN state = ? THEN state_transitioned ELSE ? END,
                                 state = ?, reason = ?, reason_data = ?, state_updated = ?
                WHERE name = ?
                """)
            var missing: [String] = []
            for c in changes {
                try update.execute(arguments: [c.state.rawValue, now, c.state.rawValue, c.reason, c.reasonData, now, c.name])
                guard db.changesCount > 0 else { missing.append(c.name); continue }
                if let history = c.history { try Self.insert(db, history) }
            }
            return missing
        }
    }

    package func append(_ item: AlarmHistoryItem) async throws {
        try await database.pool.write { db in try Self.insert(db, item) }
    }

    package func history(name: String?, kind: AlarmHistoryItem.Kind?, start: Int64?, end: Int64?, limit: Int) async throws -> [AlarmHistoryItem] {
        try await database.pool.read { db in
            var sql = "SELECT alarm_name, timestamp, kind, summary, data FROM alarm_history WHERE 1 = 1"
            var args: StatementArguments = []
            if let name { sql += " AND alarm_name = ?"; args += [name] }
            if let kind { sql += " AND kind = ?"; args += [kind.rawValue] }
            if let start { sql += " AND timestamp >= ?"; args += [start] }
            if let end { sql += " AND timestamp < ?"; args += [end] }
            sql += " ORDER BY timestamp DESC, id DESC LIMIT ?"
            args += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                AlarmHistoryItem(alarmName: row[0], timestamp: row[1], kind: AlarmHistoryItem.Kind(rawValue: row[2]) ?? .stateUpdate,
                                 summary: row[3], data: row[4])
            }
        }
    }

    // MARK: rows

    private static func insert(_ db: Database, _ item: AlarmHistoryItem) throws {
        try db.execute(sql: "INSERT INTO alarm_history (alarm_name, timestamp, kind, summary, data) VALUES (?, ?, ?, ?, ?)",
                       arguments: [item.alarmName, item.timestamp, item.kind.rawValue, item.summary, item.data])
    }

    private static func fetch(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [StoredAlarm] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let text: String = row["configuration"]
            guard let state = AlarmState(rawValue: row["state"]) else { throw StorageError(.corrupt, "unknown alarm state") }
            return StoredAlarm(alarm: try decode(text), state: state, reason: row["reason"], reasonData: row["reason_data"],
                               stateUpdated: row["state_updated"], stateTransitioned: row["state_transitioned"],
                               configurationUpdated: row["configuration_updated"])
        }
    }

    /// The configuration as stored: a JSON document with PutMetricAlarm's field names.
    private struct Configuration: Codable {
        var name: String
        var description: String?
        var namespace: String
        var metricName: String
        var dimensions: [String: String]
        var statistic: String
        var unit: String?
        var period: Int
        var evaluationPeriods: Int
        var datapointsToAlarm: Int
        var threshold: Double?
        var thresholdMetricId: String?
        var comparisonOperator: String
        var treatMissingData: String
        var evaluateLowSampleCountPercentile: String?
        var actionsEnabled: Bool
        var alarmActions: [String]
        var okActions: [String]
        var insufficientDataActions: [String]
        var metrics: [Query]?

        /// One query of a metric-math alarm.
        struct Query: Codable {
            var id: String
            var label: String?
            var returnData: Bool
            var expression: String?
            var period: Int?
            var namespace: String?
            var metricName: String?
            var dimensions: [String: String]?
            var stat: String?
            var unit: String?
        }
    }

    static func encode(_ a: MetricAlarm) throws -> String {
        let c = Configuration(name: a.name, description: a.description, namespace: a.series.namespace, metricName: a.series.name,
                              dimensions: a.series.dimensions, statistic: a.statistic.description, unit: a.unit?.rawValue,
                              period: a.period, evaluationPeriods: a.evaluationPeriods, datapointsToAlarm: a.datapointsToAlarm,
                              threshold: a.threshold, thresholdMetricId: a.thresholdMetricId, comparisonOperator: a.comparison.rawValue,
                              treatMissingData: a.treatMissingData.rawValue,
                              evaluateLowSampleCountPercentile: a.evaluateLowSampleCountPercentile?.rawValue,
                              actionsEnabled: a.actionsEnabled, alarmActions: a.alarmActions, okActions: a.okActions,
                              insufficientDataActions: a.insufficientDataActions,
                              metrics: a.metrics.isEmpty ? nil : a.metrics.map { m in
                                  switch m.source {
                                  case .metric(let s, let period, let stat, let unit):
                                      Configuration.Query(id: m.id, label: m.label, returnData: m.returnData, period: period,
                                                          namespace: s.namespace, metricName: s.name, dimensions: s.dimensions,
                                                          stat: stat.description, unit: unit?.rawValue)
                                  case .expression(let text):
                                      Configuration.Query(id: m.id, label: m.label, returnData: m.returnData, expression: text, period: m.period)
                                  }
                              })
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(c), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> MetricAlarm {
        let c = try JSONDecoder().decode(Configuration.self, from: Data(text.utf8))
        guard let statistic = Statistic(c.statistic), let comparison = ComparisonOperator(rawValue: c.comparisonOperator),
              let treat = TreatMissingData(rawValue: c.treatMissingData)
        else { throw StorageError(.corrupt, "unreadable alarm configuration") }
        var a = MetricAlarm(name: c.name, series: MetricSeries(namespace: c.namespace, name: c.metricName, dimensions: c.dimensions),
                            statistic: statistic, period: c.period, evaluationPeriods: c.evaluationPeriods,
                            datapointsToAlarm: c.datapointsToAlarm, threshold: c.threshold, comparison: comparison, treatMissingData: treat)
        a.description = c.description
        a.unit = c.unit.flatMap(MetricUnit.init(rawValue:))
        a.thresholdMetricId = c.thresholdMetricId
        a.evaluateLowSampleCountPercentile = c.evaluateLowSampleCountPercentile.flatMap(LowSampleCountPercentile.init(rawValue:))
        a.actionsEnabled = c.actionsEnabled
        a.alarmActions = c.alarmActions
        a.okActions = c.okActions
        a.insufficientDataActions = c.insufficientDataActions
        a.metrics = try (c.metrics ?? []).map { q in
            if let text = q.expression {
                return AlarmMetric(id: q.id, label: q.label, returnData: q.returnData, source: .expression(text), period: q.period)
            }
            guard let ns = q.namespace, let name = q.metricName, let period = q.period, let stat = q.stat.flatMap(Statistic.init) else {
                throw StorageError(.corrupt, "unreadable alarm metric query")
            }
            return AlarmMetric(id: q.id, label: q.label, returnData: q.returnData,
                               source: .metric(MetricSeries(namespace: ns, name: name, dimensions: q.dimensions ?? [:]), period: period,
                                               statistic: stat, unit: q.unit.flatMap(MetricUnit.init(rawValue:))))
        }
        return a
    }
}
