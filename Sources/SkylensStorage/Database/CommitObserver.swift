import GRDB

/// Tells its owner when a transaction of the connection it observes commits or rolls back, so that what the
/// transaction staged in memory takes effect only once the transaction is durable (``UnindexedTraces``,
/// ``TracePostings``). It observes no changes, only the transactions' ends. Its owner adds it to the pool when it is
/// made (``observe(_:committed:rolledBack:)``), for the database's lifetime (the callbacks hold the owner's state, not
/// the owner).
final class CommitObserver: TransactionObserver, Sendable {
    private let committed: @Sendable () -> Void
    private let rolledBack: @Sendable () -> Void

    private init(committed: @escaping @Sendable () -> Void, rolledBack: @escaping @Sendable () -> Void) {
        self.committed = committed
        self.rolledBack = rolledBack
    }

    /// Calls `committed` or `rolledBack` at the end of each of `pool`'s write transactions, for the database's lifetime.
    static func observe(_ pool: DatabasePool, committed: @escaping @Sendable () -> Void, rolledBack: @escaping @Sendable () -> Void) {
        pool.add(transactionObserver: CommitObserver(committed: committed, rolledBack: rolledBack), extent: .databaseLifetime)
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { committed() }
    func databaseDidRollback(_ db: Database) { rolledBack() }
}
