import GRDB
import GRDBSQLite

/// Binding values to a cached statement and running it without GRDB's argument arrays, for write paths that run a
/// statement hundreds of thousands of times (building `StatementArguments` cost as much as SQLite's own insert).
extension Statement {
    /// SQLite copies the bytes it is given (the buffers passed here are temporary).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ text: String) {
        var text = text
        _ = text.withUTF8 { sqlite3_bind_text(sqliteStatement, index, $0.baseAddress, Int32($0.count), Self.transient) }
    }

    /// Binds UTF-8 bytes as text.
    func bind(_ index: Int32, text: UnsafeRawBufferPointer) {
        sqlite3_bind_text(sqliteStatement, index, text.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(text.count), Self.transient)
    }

    /// Binds UTF-8 bytes as text without SQLite copying them: they must stay valid, unchanged, until the statement
    /// is bound again or its bindings are cleared.
    func bind(_ index: Int32, staticText text: UnsafeRawBufferPointer) {
        sqlite3_bind_text(sqliteStatement, index, text.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(text.count), nil)
    }

    /// Unbinds every parameter (SQLite then holds no pointer given by `bind(_:staticText:)`).
    func clearBindings() { sqlite3_clear_bindings(sqliteStatement) }

    func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(sqliteStatement, index, value) }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(sqliteStatement, index, value) }

    func bind(_ index: Int32, blob: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(sqliteStatement, index, blob.baseAddress, Int32(blob.count), Self.transient)
    }

    /// Binds bytes as a blob without SQLite copying them: they must stay valid, unchanged, until the statement is
    /// bound again or its bindings are cleared.
    func bind(_ index: Int32, staticBlob blob: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(sqliteStatement, index, blob.baseAddress, Int32(blob.count), nil)
    }

    /// Runs a statement that returns no rows, with the values bound since its last run.
    func step(_ db: Database) throws {
        let handle = sqliteStatement
        defer { sqlite3_reset(handle) }
        let rc = sqlite3_step(handle)
        guard rc == SQLITE_DONE else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage) }
    }

    /// Runs a query with the values bound since its last run and returns its first row's first column as an integer
    /// (nil when it returns no row).
    func firstInt64(_ db: Database) throws -> Int64? {
        try firstRow(db) { $0.int64(0) }
    }

    /// Runs a query with the values bound since its last run and reads its first row (nil when it returns none).
    func firstRow<T>(_ db: Database, _ read: (Columns) throws -> T) throws -> T? {
        let handle = sqliteStatement
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return try read(Columns(handle: handle))
        case SQLITE_DONE: return nil
        case let rc: throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage)
        }
    }

    /// The current row of a stepped statement; text and blobs are valid only while `firstRow`'s closure runs.
    struct Columns {
        let handle: SQLiteStatement

        func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }

        func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }

        /// A blob's bytes, valid only while `firstRow`'s closure runs.
        func blob(_ i: Int32) -> UnsafeRawBufferPointer {
            guard let p = sqlite3_column_blob(handle, i) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            return UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, i)))
        }

        func text(_ i: Int32) -> UnsafeRawBufferPointer {
            guard let p = sqlite3_column_text(handle, i) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            return UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, i)))
        }
    }
}
