/// An error of the SNS API, as the query protocol reports it (`<Error><Type>Sender</Type><Code>…</Code>…`).
package struct SNSError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidParameter = "InvalidParameter"
        case notFound = "NotFound"
        case invalidAction = "InvalidAction"
        case internalError = "InternalError"

        package var status: Int {
            switch self {
            case .notFound: 404
            case .internalError: 500
            default: 400
            }
        }
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }

    package static func invalid(_ message: String) -> SNSError { SNSError(.invalidParameter, "Invalid parameter: \(message)") }
}
