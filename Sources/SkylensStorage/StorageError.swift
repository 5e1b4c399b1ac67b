/// An error of the storage layer.
package struct StorageError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// Stored bytes that do not decode: a damaged or foreign block.
        case corrupt
        /// The database could not be opened or migrated.
        case unavailable
        /// Input the store cannot keep (callers validate it first: a caller's mistake).
        case invalid
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "storage \(code.rawValue): \(message)" }
}
