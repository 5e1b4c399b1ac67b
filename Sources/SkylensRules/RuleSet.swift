import SkylensCore

/// What the files in `rules/` declare, validated: log groups to create, metric filters to apply, topics and their
/// subscriptions, and alarms.
package struct RuleSet: Sendable {
    package struct LogGroup: Sendable, Equatable {
        package var name: String
        package var retentionInDays: Int?
    }

    package struct Topic: Sendable, Equatable {
        package var name: String
        package var displayName: String
    }

    package struct Subscription: Sendable, Equatable {
        package var topicArn: String
        package var protocolName: String
        package var endpoint: String
        package var rawMessageDelivery: Bool
        /// The DeliveryPolicy as JSON.
        package var deliveryPolicy: String?
    }

    package var logGroups: [LogGroup] = []
    /// Metric filters; a group name ending in `*` applies to every group with that prefix (a Skylens extension).
    package var metricFilters: [StoredMetricFilter] = []
    package var topics: [Topic] = []
    package var subscriptions: [Subscription] = []
    package var alarms: [MetricAlarm] = []
    /// X-Ray sampling rules served to the SDKs (besides the default rule).
    package var samplingRules: [SamplingRule] = []

    package init() {}
}

/// A problem in a rule file, located for an editor: `file:line:column: error: message`.
package struct RuleDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var message: String

    package init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    package var description: String { "\(file):\(line):\(column): error: \(message)" }
}
