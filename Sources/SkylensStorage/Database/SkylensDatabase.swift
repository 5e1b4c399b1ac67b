import Foundation
import GRDB
import SkylensCore

/// The one SQLite database of a collector: a WAL-mode pool (one writer, concurrent snapshot readers) and its
/// immutable migrations.
package final class SkylensDatabase: Sendable {
    package let pool: DatabasePool

    /// Opens (creating if needed) `skylens.sqlite` in `directory` and migrates it.
    package init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            // FULL: a commit is on disk before PutLogEvents is acknowledged. Group commits amortise the fsync.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // After each checkpoint the WAL file is cut back to 64 MiB, so it cannot grow without bound.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // Checkpoint every 32 MiB of WAL rather than SQLite's 4 MiB: index pages that many commits touch (the
            // tails of time-ordered indexes, the service map) are copied into the database once per checkpoint.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
        }
        config.maximumReaderCount = 4
        // A collector restarted on the same directory in the same process (tests) can open it while the previous
        // pool's last connection is still closing (SQLite checkpoints the WAL under an exclusive lock then): wait for
        // such a lock instead of failing at once.
        config.busyMode = .timeout(10)
        let path = (directory as NSString).appendingPathComponent("skylens.sqlite")
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw StorageError(.unavailable, "cannot open \(path): \(error)")
        }
    }

    /// Schema history. Never edit a registered migration: add a new one.
    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-logs") { db in
            try db.execute(sql: """
                CREATE TABLE log_group (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    creation_time INTEGER NOT NULL,
                    retention_days INTEGER,
                    tags TEXT NOT NULL DEFAULT '{}'
                );
                CREATE TABLE log_stream (
                    id INTEGER PRIMARY KEY,
                    group_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    creation_time INTEGER NOT NULL,
                    first_event INTEGER,
                    last_event INTEGER,
                    last_ingestion INTEGER,
                    next_seq INTEGER NOT NULL DEFAULT 1,
                    stored_bytes INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (group_id, name)
                );
                -- Sealed, zlib-compressed blocks of events (format: README.md beside BlockCodec.swift).
                CREATE TABLE block (
                    id INTEGER PRIMARY KEY,
                    group_id INTEGER NOT NULL,
                    stream_id INTEGER NOT NULL,
                    min_ts INTEGER NOT NULL,
                    max_ts INTEGER NOT NULL,
                    base_seq INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    raw_bytes INTEGER NOT NULL,
                    data BLOB NOT NULL
                );
                CREATE INDEX block_by_group_time ON block (group_id, min_ts);
                CREATE INDEX block_by_stream_time ON block (stream_id, min_ts);
                CREATE INDEX block_by_max_ts ON block (group_id, max_ts);
                -- The hot tier: events of small batches, readable at once, until the sealer compresses them.
                CREATE TABLE hot_event (
                    stream_id INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    group_id INTEGER NOT NULL,
                    ts INTEGER NOT NULL,
                    ingestion INTEGER NOT NULL,
                    message BLOB NOT NULL,
                    PRIMARY KEY (stream_id, seq)
                ) WITHOUT ROWID;
                CREATE INDEX hot_event_by_group_time ON hot_event (group_id, ts);
                """)
        }
        migrator.registerMigration("v2-metrics") { db in
            try db.execute(sql: """
                CREATE TABLE metric_series (
                    id INTEGER PRIMARY KEY,
                    namespace TEXT NOT NULL,
                    name TEXT NOT NULL,
                    -- the canonical dimension set (MetricSeries.canonicalDimensions)
                    dims TEXT NOT NULL,
                    unit TEXT NOT NULL DEFAULT 'None',
                    last_ts INTEGER NOT NULL,
                    UNIQUE (namespace, name, dims)
                );
                -- One aggregate per series, resolution (1 or 60 seconds) and bucket start.
                CREATE TABLE metric_point (
                    series_id INTEGER NOT NULL,
                    resolution INTEGER NOT NULL,
                    start INTEGER NOT NULL,
                    sample_count REAL NOT NULL,
                    sum REAL NOT NULL,
                    minimum REAL NOT NULL,
                    maximum REAL NOT NULL,
                    sketch BLOB NOT NULL,
                    PRIMARY KEY (series_id, resolution, start)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-metric-filters") { db in
            try db.execute(sql: """
                CREATE TABLE metric_filter (
                    group_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    pattern TEXT NOT NULL,
                    -- the metric transformation as JSON (metricName, metricNamespace, metricValue, defaultValue, dimensions, unit)
                    transformation TEXT NOT NULL,
                    creation_time INTEGER NOT NULL,
                    PRIMARY KEY (group_id, name)
                );
                """)
        }
        migrator.registerMigration("v4-metric-journal") { db in
            try db.execute(sql: """
                -- The datums of each metric commit (MetricJournal format), until their buckets are rewritten in
                -- metric_point; replayed into memory at start-up.
                CREATE TABLE metric_journal (
                    id INTEGER PRIMARY KEY,
                    datums BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5-alarms") { db in
            try db.execute(sql: """
                CREATE TABLE alarm (
                    name TEXT PRIMARY KEY,
                    -- PutMetricAlarm's configuration as JSON (SQLiteAlarmStore.Configuration)
                    configuration TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    reason_data TEXT,
                    state_updated INTEGER NOT NULL,
                    state_transitioned INTEGER NOT NULL,
                    configuration_updated INTEGER NOT NULL
                );
                CREATE TABLE alarm_history (
                    id INTEGER PRIMARY KEY,
                    alarm_name TEXT NOT NULL,
                    timestamp INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    data TEXT NOT NULL
                );
                CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, timestamp);
                """)
        }
        migrator.registerMigration("v6-notifications") { db in
            try db.execute(sql: """
                CREATE TABLE topic (
                    arn TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    display_name TEXT NOT NULL DEFAULT ''
                );
                CREATE TABLE subscription (
                    arn TEXT PRIMARY KEY,
                    topic_arn TEXT NOT NULL,
                    protocol TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    confirmed INTEGER NOT NULL,
                    token TEXT NOT NULL,
                    raw_message_delivery INTEGER NOT NULL DEFAULT 0,
                    delivery_policy TEXT
                );
                -- The outbox: each row is written before its first attempt; dead = 1 is the dead-letter queue.
                CREATE TABLE delivery (
                    id INTEGER PRIMARY KEY,
                    subscription_arn TEXT NOT NULL,
                    topic_arn TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    message_type TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    body TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt INTEGER NOT NULL,
                    last_error TEXT,
                    dead INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX delivery_due ON delivery (dead, next_attempt);
                """)
        }
        migrator.registerMigration("v7-traces") { db in
            try db.execute(sql: """
                -- X-Ray documents as sent, compressed with the log store's block codec (one block per commit).
                CREATE TABLE trace_block (
                    id INTEGER PRIMARY KEY,
                    created INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                );
                -- The current version of each (sub)segment document: its block and position there.
                CREATE TABLE trace_segment (
                    trace_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    in_progress INTEGER NOT NULL,
                    block_id INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (trace_id, id)
                ) WITHOUT ROWID;
                CREATE INDEX trace_segment_by_block ON trace_segment (block_id);
                -- One row per trace: its facts (TraceFacts as JSON), recomputed when a document of it arrives.
                CREATE TABLE trace (
                    trace_id TEXT PRIMARY KEY,
                    start REAL NOT NULL,
                    end REAL NOT NULL,
                    trace_time INTEGER NOT NULL,
                    facts BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX trace_by_start ON trace (start, trace_id);
                CREATE INDEX trace_by_end ON trace (end);
                -- Index terms of filter expressions: "a:<key>=<typed value>" for annotations, "s:<name>" for services.
                CREATE TABLE trace_term (
                    term TEXT NOT NULL,
                    start REAL NOT NULL,
                    trace_id TEXT NOT NULL,
                    PRIMARY KEY (term, start, trace_id)
                ) WITHOUT ROWID;
                CREATE INDEX trace_term_by_trace ON trace_term (trace_id);
                -- Trace ids joined into another trace by an async link.
                CREATE TABLE trace_alias (
                    trace_id TEXT PRIMARY KEY,
                    root_trace_id TEXT NOT NULL
                ) WITHOUT ROWID;
                -- The live service map: per minute, a service's own requests (source '') or an edge's calls.
                CREATE TABLE service_stat (
                    minute INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    ok INTEGER NOT NULL,
                    error INTEGER NOT NULL,
                    throttle INTEGER NOT NULL,
                    fault INTEGER NOT NULL,
                    total_ms INTEGER NOT NULL,
                    histogram TEXT NOT NULL,
                    PRIMARY KEY (minute, source, destination)
                ) WITHOUT ROWID;
                -- Log events that name a trace id.
                CREATE TABLE trace_log (
                    trace_id TEXT NOT NULL,
                    log_group TEXT NOT NULL,
                    log_stream TEXT NOT NULL,
                    timestamp INTEGER NOT NULL,
                    PRIMARY KEY (trace_id, log_group, log_stream, timestamp)
                ) WITHOUT ROWID;
                CREATE INDEX trace_log_by_time ON trace_log (timestamp);
                """)
        }
        migrator.registerMigration("v8-trace-references") { db in
            // Each trace row lists where its documents are (`id:inProgress:block:position;…`), replacing one
            // trace_segment row per document; index terms are deleted by their key, so the by-trace index goes too.
            try db.execute(sql: """
                ALTER TABLE trace ADD COLUMN segments TEXT NOT NULL DEFAULT '';
                UPDATE trace SET segments = COALESCE((
                    SELECT group_concat(ref, ';') FROM (
                        SELECT id || ':' || in_progress || ':' || block_id || ':' || position AS ref FROM trace_segment s
                        WHERE s.trace_id = trace.trace_id ORDER BY block_id, position)), '');
                DROP TABLE trace_segment;
                DROP INDEX trace_term_by_trace;
                """)
        }
        migrator.registerMigration("v9-delivery-trace-header") { db in
            // The publisher's X-Amzn-Trace-Id, propagated with each delivery (an async hop stays one trace).
            try db.execute(sql: "ALTER TABLE delivery ADD COLUMN trace_header TEXT")
        }
        migrator.registerMigration("v10-trace-term-journal") { db in
            // Index-term changes of each trace commit, appended as one row and applied to trace_term in key order
            // by SQLiteTraceStore.applyTermJournal (inserting terms one trace at a time touched a random index page
            // per high-cardinality annotation value on every commit).
            try db.execute(sql: """
                CREATE TABLE trace_term_journal (
                    id INTEGER PRIMARY KEY,
                    changes BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v11-trace-rows-in-arrival-order") { db in
            // Trace ids end in 96 random bits: as the key of a WITHOUT ROWID table of ~1 kB rows, each new trace was
            // written into a random page of the table. Rows now go in arrival order (rowid), found by id through a
            // unique index of small entries.
            try db.execute(sql: """
                CREATE TABLE trace_by_arrival (
                    trace_id TEXT NOT NULL UNIQUE,
                    start REAL NOT NULL,
                    end REAL NOT NULL,
                    trace_time INTEGER NOT NULL,
                    facts BLOB NOT NULL,
                    segments TEXT NOT NULL DEFAULT ''
                );
                INSERT INTO trace_by_arrival (trace_id, start, end, trace_time, facts, segments)
                    SELECT trace_id, start, end, trace_time, facts, segments FROM trace ORDER BY start;
                DROP TABLE trace;
                ALTER TABLE trace_by_arrival RENAME TO trace;
                CREATE INDEX trace_by_start ON trace (start, trace_id);
                CREATE INDEX trace_by_end ON trace (end);
                """)
        }
        migrator.registerMigration("v12-no-trace-end-index") { db in
            // Only retention looked traces up by end, and a trace ends after it starts: it finds them through
            // trace_by_start (start < cut-off, then end < cut-off), and each trace row updates one index fewer.
            try db.execute(sql: "DROP INDEX trace_by_end")
        }
        migrator.registerMigration("v13-trace-terms-by-rowid") { db in
            // Index terms refer to their trace by its rowid (which updates keep) instead of its 35-character id: keys
            // about half as long, and no trace-id copies in the journal. Traces are paged by (start, rowid), so
            // trace_by_start needs only the start. The index is rebuilt from each trace's facts, which were
            // written in the same transactions as the journal: the old journal's rows are not needed.
            try db.execute(sql: """
                CREATE TABLE trace_term_by_rowid (
                    term TEXT NOT NULL,
                    start REAL NOT NULL,
                    trace INTEGER NOT NULL,
                    PRIMARY KEY (term, start, trace)
                ) WITHOUT ROWID;
                """)
            let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO trace_term_by_rowid (term, start, trace) VALUES (?, ?, ?)")
            let rows = try Row.fetchCursor(db, sql: "SELECT rowid, facts FROM trace")
            while let row = try rows.next() {
                let rowid: Int64 = row[0]
                let facts = try SQLiteTraceStore.facts(row[1])
                for term in TracePostings.terms(facts) { try insert.execute(arguments: [term, facts.startTime, rowid]) }
            }
            try db.execute(sql: """
                DROP TABLE trace_term;
                ALTER TABLE trace_term_by_rowid RENAME TO trace_term;
                DELETE FROM trace_term_journal;
                DROP INDEX trace_by_start;
                CREATE INDEX trace_by_start ON trace (start);
                """)
        }
        migrator.registerMigration("v14-trace-log-windows") { db in
            // One row per trace and stream with the first and last timestamps of the events naming the trace, instead
            // of one per event plus an index by time that repeated every row: a trace's lines were always looked for
            // in that window, and the per-event rows took 50 bytes an event of the log benchmark's corpus.
            try db.execute(sql: """
                CREATE TABLE trace_log_window (
                    trace_id TEXT NOT NULL,
                    log_group TEXT NOT NULL,
                    log_stream TEXT NOT NULL,
                    first INTEGER NOT NULL,
                    last INTEGER NOT NULL,
                    PRIMARY KEY (trace_id, log_group, log_stream)
                ) WITHOUT ROWID;
                INSERT INTO trace_log_window (trace_id, log_group, log_stream, first, last)
                    SELECT trace_id, log_group, log_stream, min(timestamp), max(timestamp) FROM trace_log
                    GROUP BY trace_id, log_group, log_stream;
                DROP TABLE trace_log;
                ALTER TABLE trace_log_window RENAME TO trace_log;
                """)
        }
        migrator.registerMigration("v15-trace-log-compact") { db in
            // A window names its trace in 16 bytes (the id's hex digits as bytes) and its stream by the log store's
            // stream id, and keeps its length rather than its end: about 34 bytes a window instead of 100 (the log
            // benchmark's corpus names a trace in one event of three).
            try db.execute(sql: """
                CREATE TABLE trace_log_compact (
                    trace BLOB NOT NULL,
                    stream INTEGER NOT NULL,
                    first INTEGER NOT NULL,
                    span INTEGER NOT NULL,
                    PRIMARY KEY (trace, stream)
                ) WITHOUT ROWID;
                """)
            let insert = try db.makeStatement(sql: """
                INSERT INTO trace_log_compact (trace, stream, first, span)
                SELECT ?, s.id, ?, ? FROM log_stream s JOIN log_group g ON g.id = s.group_id WHERE g.name = ? AND s.name = ?
                ON CONFLICT (trace, stream) DO NOTHING
                """)
            let rows = try Row.fetchCursor(db, sql: "SELECT trace_id, log_group, log_stream, first, last FROM trace_log")
            while let row = try rows.next() {
                guard let trace = TraceIdentifiers.packed(traceID: row[0]) else { continue }
                let first: Int64 = row[3], last: Int64 = row[4]
                try insert.execute(arguments: [Data(trace), first, last - first, row[1], row[2]])
            }
            try db.execute(sql: """
                DROP TABLE trace_log;
                ALTER TABLE trace_log_compact RENAME TO trace_log;
                """)
        }
        migrator.registerMigration("v16-trace-ids-deferred") { db in
            // A trace is found by its id through `trace_by_id` (the id's 32 hex digits as 16 bytes), which the store
            // writes in key order from time to time instead of SQLite in every commit: ids end in 96 random bits, so
            // the unique index on `trace.trace_id` took a page write per new trace (almost half of what a commit wrote).
            // Rows with a rowid above `trace_by_id_state.through` are not in it yet. The table is made again without
            // the unique constraint, rowids kept (index terms refer to them).
            try db.execute(sql: """
                CREATE TABLE trace_v16 (
                    trace_id TEXT NOT NULL,
                    start REAL NOT NULL,
                    end REAL NOT NULL,
                    trace_time INTEGER NOT NULL,
                    facts BLOB NOT NULL,
                    segments TEXT NOT NULL DEFAULT ''
                );
                INSERT INTO trace_v16 (rowid, trace_id, start, end, trace_time, facts, segments)
                    SELECT rowid, trace_id, start, end, trace_time, facts, segments FROM trace ORDER BY rowid;
                DROP TABLE trace;
                ALTER TABLE trace_v16 RENAME TO trace;
                CREATE INDEX trace_by_start ON trace (start);
                CREATE TABLE trace_by_id (
                    id BLOB PRIMARY KEY,
                    trace INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE trace_by_id_state (through INTEGER NOT NULL);
                INSERT INTO trace_by_id_state (through) SELECT coalesce(max(rowid), 0) FROM trace;
                """)
            let insert = try db.makeStatement(sql: "INSERT INTO trace_by_id (id, trace) VALUES (?, ?)")
            let rows = try Row.fetchCursor(db, sql: "SELECT rowid, trace_id FROM trace")
            while let row = try rows.next() {
                let rowid: Int64 = row[0], id: String = row[1]
                guard let packed = TraceIdentifiers.packed(traceID: id) else {
                    throw StorageError(.corrupt, "trace \(rowid) has an invalid trace id \(id)")
                }
                try insert.execute(arguments: [Data(packed), rowid])
            }
        }
        migrator.registerMigration("v17-trace-postings") { db in
            // Index terms as posting lists: one row per term, ten-second bucket of trace starts and flush, listing
            // the (start, rowid) of its traces, instead of one row per term and trace (a term common to every trace,
            // a service's name, was a row per trace). Commits journal the rowids of the traces whose terms they
            // added (TracePostings). The lists are made from each trace's facts, a bucket's traces at a time; their
            // flush number is 0 (the journal's ids, which later flushes take, start at 1).
            try db.execute(sql: """
                DROP TABLE trace_term;
                DROP TABLE trace_term_journal;
                CREATE TABLE trace_posting (
                    term TEXT NOT NULL,
                    bucket INTEGER NOT NULL,
                    flush INTEGER NOT NULL,
                    entries BLOB NOT NULL,
                    PRIMARY KEY (term, bucket, flush)
                ) WITHOUT ROWID;
                CREATE INDEX trace_posting_by_bucket ON trace_posting (bucket);
                CREATE TABLE trace_posting_journal (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    traces BLOB NOT NULL
                );
                """)
            var postings: [TracePostings.Posting] = []
            var bucket: Int64?
            let rows = try Row.fetchCursor(db, sql: "SELECT rowid, start, facts FROM trace ORDER BY start")
            while let row = try rows.next() {
                let rowid: Int64 = row[0], start: Double = row[1]
                // Written when a bucket ends (each bucket's lists in one write, so that (term, bucket, 0) is one row).
                if TracePostings.bucket(start) != bucket, postings.count >= 100_000 {
                    try TracePostings.write(db, postings, flush: 0)
                    postings.removeAll(keepingCapacity: true)
                }
                bucket = TracePostings.bucket(start)
                TracePostings.append(try SQLiteTraceStore.facts(row[2]), of: rowid, to: &postings)
            }
            try TracePostings.write(db, postings, flush: 0)
        }
        return migrator
    }
}
