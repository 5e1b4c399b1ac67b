/// An error of the X-Ray API (rest-json: the code in the `x-amzn-ErrorType` header and a `{"message": …}` body).
package struct XRayError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidRequest = "InvalidRequestException"
        case throttled = "ThrottledException"
        case unknownOperation = "UnknownOperationException"
        case internalFailure = "InternalFailure"

        package var status: Int {
            switch self {
            case .invalidRequest: 400
            case .throttled: 429
            case .unknownOperation: 404
            case .internalFailure: 500
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

    package var body: WireValue { .map([("message", .string(message))]) }

    package static func invalid(_ message: String) -> XRayError { XRayError(.invalidRequest, message) }
}
