/// An error of the log domain, raised by validation in the core and by the stores that implement its ports.
///
/// The wire layer maps ``Code`` to an AWS error type (`__type`) in one exhaustive switch.
package struct LogsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, independent of any wire protocol.
    package enum Code: String, Sendable, Equatable {
        case invalidParameter
        case resourceNotFound
        case resourceAlreadyExists
        case limitExceeded
        case dataAlreadyAccepted
        case serviceUnavailable
        case invalidOperation
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }

    package static func invalid(_ message: String) -> LogsError { LogsError(.invalidParameter, message) }
    package static let groupNotFound = LogsError(.resourceNotFound, "The specified log group does not exist.")
    package static let streamNotFound = LogsError(.resourceNotFound, "The specified log stream does not exist.")
    package static let groupExists = LogsError(.resourceAlreadyExists, "The specified log group already exists")
    package static let streamExists = LogsError(.resourceAlreadyExists, "The specified log stream already exists")
    package static let invalidToken = LogsError(.invalidParameter, "The specified nextToken is invalid.")
}
