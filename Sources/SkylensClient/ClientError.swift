/// A failure talking to the collector, worded for the person at the terminal.
package struct ClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The collector did not answer at all.
        case unreachable
        /// The collector answered with an AWS error.
        case aws(code: String, status: Int)
        /// The answer could not be read.
        case badResponse
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String {
        switch kind {
        case .unreachable: message
        case .aws(let code, _): "\(code): \(message)"
        case .badResponse: "unexpected response from the collector: \(message)"
        }
    }

    package var awsCode: String? {
        if case .aws(let code, _) = kind { return code }
        return nil
    }
}
