import SkylensCore
/// An error of the CloudWatch API, as the query-compatible protocols report it: the query error code (sent in
/// `x-amzn-query-error: <Code>;Sender` and read by the SDKs), the exception shape (`__type`) and the HTTP status.
package struct CloudWatchError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidParameterValue = "InvalidParameterValue"
        case missingParameter = "MissingParameter"
        case invalidParameterCombination = "InvalidParameterCombination"
        case invalidNextToken = "InvalidNextToken"
        case resourceNotFound = "ResourceNotFound"
        case limitExceeded = "LimitExceeded"
        case internalFailure = "InternalServiceError"
        case unknownOperation = "UnknownOperation"
        case serialization = "SerializationException"
        case validationError = "ValidationError"

        /// The exception shape in the service model.
        package var shape: String {
            switch self {
            case .invalidParameterValue: "InvalidParameterValueException"
            case .missingParameter: "MissingRequiredParameterException"
            case .invalidParameterCombination: "InvalidParameterCombinationException"
            case .invalidNextToken: "InvalidNextToken"
            case .resourceNotFound: "ResourceNotFound"
            case .limitExceeded: "LimitExceededFault"
            case .internalFailure: "InternalServiceFault"
            case .unknownOperation: "UnknownOperationException"
            case .serialization: "SerializationException"
            case .validationError: "ValidationError"
            }
        }

        package var status: Int {
            switch self {
            case .resourceNotFound: 404
            case .internalFailure: 500
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

    /// `x-amzn-query-error`.
    package var queryErrorHeader: String { "\(code.rawValue);\(code.status >= 500 ? "Receiver" : "Sender")" }

    /// The error body: `{"__type": shape, "message": …}` (JSON or CBOR alike).
    package var body: WireValue { .map([("__type", .string(code.shape)), ("message", .string(message))]) }

    /// A JSON body that does not parse.
    package static func invalidJSON(_ error: JSONScanner.SyntaxError) -> CloudWatchError {
        CloudWatchError(.serialization, "The request body is not valid JSON: \(error)")
    }

    package static func missing(_ name: String) -> CloudWatchError {
        CloudWatchError(.missingParameter, "The parameter \(name) is required.")
    }

    package static func invalid(_ name: String, _ value: String, _ why: String = "") -> CloudWatchError {
        CloudWatchError(.invalidParameterValue, "The value \(value) for parameter \(name) is invalid." + (why.isEmpty ? "" : " \(why)"))
    }
}
