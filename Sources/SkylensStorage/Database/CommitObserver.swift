import GRDB

/// Tells its owner when a transaction of the connection it observes commits or rolls back, so that what the
/// transaction staged in memory takes effect only once the transaction is durable (``UnindexedTraces``,
/// ``TracePostings``). It observes no changes, only the transactions' ends.
final class CommitObserver: TransactionObserver {
    private let committed: () -> Void
    private let rolledBack: () -> Void

    init(committed: @escaping () -> Void, rolledBack: @escaping () -> Void) {
        self.committed = committed
        self.rolledBack = rolledBack
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { committed() }
    func databaseDidRollback(_ db: Database) { rolledBack() }
}
