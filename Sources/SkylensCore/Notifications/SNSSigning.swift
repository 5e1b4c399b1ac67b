/// What SNS signs in an HTTP delivery: "a newline character-delimited list of specific name-value pairs from the
/// message", name then value, each followed by a newline, in byte order of the names. Which names depends on the
/// message type; a missing Subject is left out entirely.
package enum SNSSigning {
    /// The signed fields of each message type.
    package static func signedFields(type: String) -> [String] {
        switch type {
        case "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        default: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        }
    }

    /// The string to sign for a message with `fields` (which must include `Type`).
    package static func stringToSign(_ fields: [String: String]) -> String {
        let names = signedFields(type: fields["Type"] ?? "").sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var out = ""
        for name in names {
            guard let value = fields[name] else { continue }
            out += name + "\n" + value + "\n"
        }
        return out
    }
}

/// SNS's delivery policy for HTTP/S endpoints (the subscription's DeliveryPolicy `healthyRetryPolicy`): how many
/// times and how long apart a failed delivery is retried before it goes to the dead-letter queue.
package struct DeliveryPolicy: Sendable, Equatable {
    package var numRetries = 3
    package var numNoDelayRetries = 0
    package var minDelayTarget = 20
    package var maxDelayTarget = 20
    package var numMinDelayRetries = 0
    package var numMaxDelayRetries = 0
    package var backoffFunction = "linear"

    /// SNS's defaults: three retries, 20 seconds apart.
    package init() {}

    /// As SNS writes it in the EffectiveDeliveryPolicy attribute.
    package var json: String {
        "{\"healthyRetryPolicy\":{\"numRetries\":\(numRetries),\"numNoDelayRetries\":\(numNoDelayRetries),"
            + "\"minDelayTarget\":\(minDelayTarget),\"maxDelayTarget\":\(maxDelayTarget),"
            + "\"numMinDelayRetries\":\(numMinDelayRetries),\"numMaxDelayRetries\":\(numMaxDelayRetries),"
            + "\"backoffFunction\":\"\(backoffFunction)\"}}"
    }

    /// The delay in seconds before retry number `retry` (1-based), or nil when retries are exhausted. The phases
    /// are SNS's: immediate retries, then retries at the minimum delay, then a backoff (linear, arithmetic,
    /// geometric or exponential) from the minimum to the maximum delay, then retries at the maximum delay.
    package func delay(beforeRetry retry: Int) -> Int? {
        guard retry >= 1, retry <= numRetries else { return nil }
        if retry <= numNoDelayRetries { return 0 }
        if retry <= numNoDelayRetries + numMinDelayRetries { return minDelayTarget }
        let backoffRetries = numRetries - numNoDelayRetries - numMinDelayRetries - numMaxDelayRetries
        let k = retry - numNoDelayRetries - numMinDelayRetries
        guard k <= backoffRetries, backoffRetries > 0 else { return maxDelayTarget }
        guard backoffRetries > 1, maxDelayTarget > minDelayTarget else { return minDelayTarget }
        let fraction = Double(k - 1) / Double(backoffRetries - 1)
        let span = Double(maxDelayTarget - minDelayTarget)
        let shaped: Double = switch backoffFunction {
        case "arithmetic": fraction * fraction
        case "geometric": fraction * fraction * fraction
        case "exponential": (pow2(fraction * 10) - 1) / 1023
        default: fraction
        }
        return minDelayTarget + Int((span * shaped).rounded())
    }

    private func pow2(_ x: Double) -> Double {
        var r = 1.0
        var n = Int(x.rounded())
        while n > 0 { r *= 2; n -= 1 }
        return r
    }
}

/// How a delivery attempt ended, classified as Alertmanager and SNS do: server errors, timeouts and refused
/// connections are worth retrying; other client errors are permanent.
package enum DeliveryResult: Sendable, Equatable {
    case delivered
    case retryable(String)
    case permanent(String)

    /// The result of an HTTP answer with `status`.
    package static func http(status: Int) -> DeliveryResult {
        switch status {
        case 200..<300: .delivered
        case 429, 500...: .retryable("HTTP \(status)")
        default: .permanent("HTTP \(status)")
        }
    }
}

extension DeliveryPolicy {
    package struct Invalid: Error, Sendable { package var message: String }

    /// A subscription's DeliveryPolicy attribute: `{"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 20, …}}`,
    /// unspecified fields keeping SNS's defaults, with SNS's bounds.
    package init(json: String) throws(Invalid) {
        self.init()
        guard let root = try? JSONValue.parse(json), root.isObject else { throw Invalid(message: "DeliveryPolicy is not a JSON object") }
        guard let policy = root["healthyRetryPolicy"] else { return }
        guard policy.isObject else { throw Invalid(message: "healthyRetryPolicy must be an object") }
        func int(_ key: String, _ range: ClosedRange<Int>) throws(Invalid) -> Int? {
            guard let v = policy[key] else { return nil }
            guard let n = v.number, n == n.rounded(), range.contains(Int(n)) else {
                throw Invalid(message: "\(key) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return Int(n)
        }
        numRetries = try int("numRetries", 0...100) ?? numRetries
        numNoDelayRetries = try int("numNoDelayRetries", 0...100) ?? numNoDelayRetries
        minDelayTarget = try int("minDelayTarget", 1...3_600) ?? minDelayTarget
        maxDelayTarget = try int("maxDelayTarget", 1...3_600) ?? maxDelayTarget
        numMinDelayRetries = try int("numMinDelayRetries", 0...100) ?? numMinDelayRetries
        numMaxDelayRetries = try int("numMaxDelayRetries", 0...100) ?? numMaxDelayRetries
        if let f = policy["backoffFunction"] {
            guard let text = f.string, ["linear", "arithmetic", "geometric", "exponential"].contains(text) else {
                throw Invalid(message: "backoffFunction must be linear, arithmetic, geometric or exponential")
            }
            backoffFunction = text
        }
        guard minDelayTarget <= maxDelayTarget else { throw Invalid(message: "minDelayTarget must not exceed maxDelayTarget") }
        guard numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries <= numRetries else {
            throw Invalid(message: "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries")
        }
    }
}
