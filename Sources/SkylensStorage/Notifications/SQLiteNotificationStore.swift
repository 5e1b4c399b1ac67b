import GRDB
import SkylensCore

/// The SQLite implementation of the `NotificationStore` port: topics, subscriptions, and the delivery outbox whose
/// rows are written before any attempt (so a restart resumes them) and stay, marked dead, when they fail for good.
package final class SQLiteNotificationStore: NotificationStore {
    package let database: SkylensDatabase

    package init(database: SkylensDatabase) { self.database = database }

    package func createTopic(_ topic: Topic) async throws -> Topic {
        try await database.pool.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT arn, name, display_name FROM topic WHERE name = ?", arguments: [topic.name]) {
                return Topic(arn: row[0], name: row[1], displayName: row[2])
            }
            try db.execute(sql: "INSERT INTO topic (arn, name, display_name) VALUES (?, ?, ?)",
                           arguments: [topic.arn, topic.name, topic.displayName])
            return topic
        }
    }

    package func deleteTopic(arn: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM topic WHERE arn = ?", arguments: [arn])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM subscription WHERE topic_arn = ?", arguments: [arn])
            try db.execute(sql: "DELETE FROM delivery WHERE topic_arn = ? AND dead = 0", arguments: [arn])
            return true
        }
    }

    package func topics() async throws -> [Topic] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT arn, name, display_name FROM topic ORDER BY name").map { Topic(arn: $0[0], name: $0[1], displayName: $0[2]) }
        }
    }

    package func topic(arn: String) async throws -> Topic? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT arn, name, display_name FROM topic WHERE arn = ?", arguments: [arn])
                .map { Topic(arn: $0[0], name: $0[1], displayName: $0[2]) }
        }
    }

    package func addSubscription(_ s: Subscription) async throws {
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO subscription (arn, topic_arn, protocol, endpoint, confirmed, token, raw_message_delivery, delivery_policy)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [s.arn, s.topicArn, s.protocolName, s.endpoint, s.confirmed, s.token, s.rawMessageDelivery, s.deliveryPolicy])
        }
    }

    package func subscriptions(topicArn: String?) async throws -> [Subscription] {
        try await database.pool.read { db in
            if let topicArn {
                return try Self.subscriptions(db, "SELECT * FROM subscription WHERE topic_arn = ? ORDER BY arn", [topicArn])
            }
            return try Self.subscriptions(db, "SELECT * FROM subscription ORDER BY arn", [])
        }
    }

    package func subscription(arn: String) async throws -> Subscription? {
        try await database.pool.read { db in try Self.subscriptions(db, "SELECT * FROM subscription WHERE arn = ?", [arn]).first }
    }

    package func confirm(topicArn: String, token: String) async throws -> Subscription? {
        try await database.pool.write { db in
            guard var s = try Self.subscriptions(db, "SELECT * FROM subscription WHERE topic_arn = ? AND token = ?", [topicArn, token]).first
            else { return nil }
            s.confirmed = true
            try db.execute(sql: "UPDATE subscription SET confirmed = 1 WHERE arn = ?", arguments: [s.arn])
            return s
        }
    }

    package func removeSubscription(arn: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM subscription WHERE arn = ?", arguments: [arn])
            return db.changesCount > 0
        }
    }

    package func updateSubscription(_ s: Subscription) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE subscription SET raw_message_delivery = ?, delivery_policy = ?, confirmed = ? WHERE arn = ?",
                           arguments: [s.rawMessageDelivery, s.deliveryPolicy, s.confirmed, s.arn])
        }
    }

    package func enqueue(_ deliveries: [Delivery]) async throws {
        guard !deliveries.isEmpty else { return }
        try await database.pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO delivery (subscription_arn, topic_arn, endpoint, message_type, message_id, body, attempts, next_attempt,
                                      last_error, dead, trace_header)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for d in deliveries {
                try insert.execute(arguments: [d.subscriptionArn, d.topicArn, d.endpoint, d.messageType, d.messageId, d.body, d.attempts,
                                               d.nextAttempt, d.lastError, d.dead, d.traceHeader])
            }
        }
    }

    package func dueDeliveries(now: Int64, limit: Int) async throws -> [Delivery] {
        try await database.pool.read { db in
            try Self.deliveries(db, "SELECT * FROM delivery WHERE dead = 0 AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?", [now, limit])
        }
    }

    package func nextDue() async throws -> Int64? {
        try await database.pool.read { db in try Int64.fetchOne(db, sql: "SELECT min(next_attempt) FROM delivery WHERE dead = 0") }
    }

    package func outboxCounts() async throws -> (pending: Int, retrying: Int) {
        try await database.pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), count(CASE WHEN attempts > 0 THEN 1 END) FROM delivery WHERE dead = 0")
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    package func delivered(id: Int64) async throws {
        try await database.pool.write { db in try db.execute(sql: "DELETE FROM delivery WHERE id = ?", arguments: [id]) }
    }

    package func retry(id: Int64, attempts: Int, at: Int64, error: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE delivery SET attempts = ?, next_attempt = ?, last_error = ? WHERE id = ?",
                           arguments: [attempts, at, error, id])
        }
    }

    package func kill(id: Int64, attempts: Int, error: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE delivery SET attempts = ?, last_error = ?, dead = 1 WHERE id = ?", arguments: [attempts, error, id])
        }
    }

    package func deadLetters() async throws -> [Delivery] {
        try await database.pool.read { db in try Self.deliveries(db, "SELECT * FROM delivery WHERE dead = 1 ORDER BY id", []) }
    }

    package func replay(ids: [Int64]?, now: Int64) async throws -> Int {
        try await database.pool.write { db in
            if let ids {
                var n = 0
                for id in ids {
                    try db.execute(sql: "UPDATE delivery SET dead = 0, attempts = 0, next_attempt = ? WHERE id = ? AND dead = 1",
                                   arguments: [now, id])
                    n += db.changesCount
                }
                return n
            }
            try db.execute(sql: "UPDATE delivery SET dead = 0, attempts = 0, next_attempt = ? WHERE dead = 1", arguments: [now])
            return db.changesCount
        }
    }

    // MARK: rows

    private static func subscriptions(_ db: Database, _ sql: String, _ args: StatementArguments) throws -> [Subscription] {
        try Row.fetchAll(db, sql: sql, arguments: args).map { r in
            Subscription(arn: r["arn"], topicArn: r["topic_arn"], protocolName: r["protocol"], endpoint: r["endpoint"],
                         confirmed: r["confirmed"], token: r["token"], rawMessageDelivery: r["raw_message_delivery"],
                         deliveryPolicy: r["delivery_policy"])
        }
    }

    private static func deliveries(_ db: Database, _ sql: String, _ args: StatementArguments) throws -> [Delivery] {
        try Row.fetchAll(db, sql: sql, arguments: args).map { r in
            Delivery(id: r["id"], subscriptionArn: r["subscription_arn"], topicArn: r["topic_arn"], endpoint: r["endpoint"],
                     messageType: r["message_type"], messageId: r["message_id"], body: r["body"], attempts: r["attempts"],
                     nextAttempt: r["next_attempt"], lastError: r["last_error"], dead: r["dead"], traceHeader: r["trace_header"])
        }
    }
}
