import SkylensCore

/// An error answered on the wire: an AWS error code (`__type`), its HTTP status and a message.
///
/// ``init(_:)`` is the one exhaustive mapping from domain errors to AWS codes.
package struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidParameter = "InvalidParameterException"
        case resourceNotFound = "ResourceNotFoundException"
        case resourceAlreadyExists = "ResourceAlreadyExistsException"
        case limitExceeded = "LimitExceededException"
        case dataAlreadyAccepted = "DataAlreadyAcceptedException"
        case serviceUnavailable = "ServiceUnavailableException"
        case invalidOperation = "InvalidOperationException"
        case serialization = "SerializationException"
        case unknownOperation = "UnknownOperationException"
        case internalFailure = "InternalFailure"

        /// The HTTP status AWS answers with.
        package var status: Int {
            switch self {
            case .serviceUnavailable, .internalFailure: 500
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

    package init(_ error: LogsError) {
        let code: Code = switch error.code {
        case .invalidParameter: .invalidParameter
        case .resourceNotFound: .resourceNotFound
        case .resourceAlreadyExists: .resourceAlreadyExists
        case .limitExceeded: .limitExceeded
        case .dataAlreadyAccepted: .dataAlreadyAccepted
        case .serviceUnavailable: .serviceUnavailable
        case .invalidOperation: .invalidOperation
        }
        self.init(code, error.message)
    }

    package init(_ error: FilterPatternError) {
        self.init(.invalidParameter, error.description)
    }

    package var description: String { "\(code.rawValue): \(message)" }

    /// The AWS JSON error body: `{"__type": "...", "message": "..."}`.
    package var jsonBody: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("__type", code.rawValue)
        w.field("message", message)
        w.endObject()
        return w.bytes
    }
}
