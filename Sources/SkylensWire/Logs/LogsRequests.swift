import Foundation
import SkylensCore

/// Requests of the CloudWatch Logs API (AWS JSON 1.1), decoded with their field names as AWS spells them.
/// Every field is optional here; ``LogsRequestFields`` enforces presence with AWS's validation messages.
package enum LogsRequests {
    package struct CreateLogGroup: Decodable, Sendable {
        package var logGroupName: String?
        package var tags: [String: String]?
        package var kmsKeyId: String?
        package var logGroupClass: String?
    }

    package struct LogGroupName: Decodable, Sendable {
        package var logGroupName: String?
    }

    package struct DescribeLogGroups: Decodable, Sendable {
        package var logGroupNamePrefix: String?
        package var logGroupNamePattern: String?
        package var nextToken: String?
        package var limit: Int?
        package var logGroupClass: String?
        package var includeLinkedAccounts: Bool?
    }

    package struct LogStreamName: Decodable, Sendable {
        package var logGroupName: String?
        package var logStreamName: String?
    }

    package struct DescribeLogStreams: Decodable, Sendable {
        package var logGroupName: String?
        package var logGroupIdentifier: String?
        package var logStreamNamePrefix: String?
        package var orderBy: String?
        package var descending: Bool?
        package var nextToken: String?
        package var limit: Int?
    }

    package struct GetLogEvents: Decodable, Sendable {
        package var logGroupName: String?
        package var logGroupIdentifier: String?
        package var logStreamName: String?
        package var startTime: Int64?
        package var endTime: Int64?
        package var nextToken: String?
        package var limit: Int?
        package var startFromHead: Bool?
        package var unmask: Bool?
    }

    package struct FilterLogEvents: Decodable, Sendable {
        package var logGroupName: String?
        package var logGroupIdentifier: String?
        package var logStreamNames: [String]?
        package var logStreamNamePrefix: String?
        package var startTime: Int64?
        package var endTime: Int64?
        package var filterPattern: String?
        package var nextToken: String?
        package var limit: Int?
        package var interleaved: Bool?
        package var unmask: Bool?
    }

    package struct PutRetentionPolicy: Decodable, Sendable {
        package var logGroupName: String?
        package var retentionInDays: Int?
    }

    package struct TagResource: Decodable, Sendable {
        package var resourceArn: String?
        package var tags: [String: String]?
    }

    package struct UntagResource: Decodable, Sendable {
        package var resourceArn: String?
        package var tagKeys: [String]?
    }

    package struct ResourceArn: Decodable, Sendable {
        package var resourceArn: String?
    }

    package struct MetricTransformation: Decodable, Sendable {
        package var metricName: String?
        package var metricNamespace: String?
        package var metricValue: String?
        package var defaultValue: Double?
        package var dimensions: [String: String]?
        package var unit: String?
    }

    package struct PutMetricFilter: Decodable, Sendable {
        package var logGroupName: String?
        package var filterName: String?
        package var filterPattern: String?
        package var metricTransformations: [MetricTransformation]?
    }

    package struct DescribeMetricFilters: Decodable, Sendable {
        package var logGroupName: String?
        package var filterNamePrefix: String?
        package var nextToken: String?
        package var limit: Int?
        package var metricName: String?
        package var metricNamespace: String?
    }

    package struct DeleteMetricFilter: Decodable, Sendable {
        package var logGroupName: String?
        package var filterName: String?
    }

    package struct TestMetricFilter: Decodable, Sendable {
        package var filterPattern: String?
        package var logEventMessages: [String]?
    }

    package struct TagLogGroup: Decodable, Sendable {
        package var logGroupName: String?
        package var tags: [String: String]?
    }

    package struct UntagLogGroup: Decodable, Sendable {
        package var logGroupName: String?
        package var tags: [String]?
    }

    /// Decodes `T` from a JSON body; malformed JSON or a field of the wrong type is a `SerializationException`.
    package static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(WireError) -> T {
        let data = body.isEmpty ? Data("{}".utf8) : Data(body)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, context) {
            throw WireError(.serialization, "Unexpected value type for field '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.valueNotFound(_, context) {
            throw WireError(.serialization, "Unexpected null for field '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw WireError(.serialization, "The request body is not valid JSON")
        }
    }
}

/// Presence and range checks with AWS's validation wording.
package enum LogsRequestFields {
    package static func required<T>(_ value: T?, _ name: String) throws(LogsError) -> T {
        guard let value else {
            throw .invalid("1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null")
        }
        return value
    }

    /// Checks `limit` against `range`; returns `defaultValue` when absent.
    package static func limit(_ value: Int?, in range: ClosedRange<Int>, default defaultValue: Int) throws(LogsError) -> Int {
        guard let value else { return defaultValue }
        if value < range.lowerBound {
            throw .invalid("1 validation error detected: Value '\(value)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to \(range.lowerBound)")
        }
        if value > range.upperBound {
            throw .invalid("1 validation error detected: Value '\(value)' at 'limit' failed to satisfy constraint: Member must have value less than or equal to \(range.upperBound)")
        }
        return value
    }

    /// The log group a request names, by `logGroupName` or `logGroupIdentifier` (a name or an ARN), not both.
    package static func group(name: String?, identifier: String?) throws(LogsError) -> String {
        switch (name, identifier) {
        case let (name?, nil):
            try ResourceNames.validateGroup(name)
            return name
        case let (nil, identifier?):
            let resolved = LogsARN.groupName(fromIdentifier: identifier)
            try ResourceNames.validateGroup(resolved, field: "logGroupIdentifier")
            return resolved
        case (nil, nil):
            throw .invalid("Either logGroupName or logGroupIdentifier must be specified")
        case (_?, _?):
            throw .invalid("LogGroup name and LogGroup identifier are mutually exclusive parameters.")
        }
    }
}

/// ARNs of CloudWatch Logs resources.
package enum LogsARN {
    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (the form `TagResource` takes).
    package static func group(_ name: String, region: String, account: String) -> String {
        "arn:aws:logs:\(region):\(account):log-group:\(name)"
    }

    package static func stream(_ stream: String, group: String, region: String, account: String) -> String {
        "arn:aws:logs:\(region):\(account):log-group:\(group):log-stream:\(stream)"
    }

    /// The log group name in an ARN or identifier; a plain name is returned as it is.
    package static func groupName(fromIdentifier identifier: String) -> String {
        guard identifier.hasPrefix("arn:") else { return identifier }
        let parts = identifier.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count == 7, parts[5] == "log-group" else { return identifier }
        var name = String(parts[6])
        if name.hasSuffix(":*") { name.removeLast(2) }
        return name
    }

    /// The log group an ARN names, or nil when it is not a log group ARN.
    package static func groupName(fromARN arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "arn", parts[2] == "logs", parts[5] == "log-group", !parts[6].isEmpty else { return nil }
        var name = String(parts[6])
        if name.hasSuffix(":*") { name.removeLast(2) }
        return name
    }
}
