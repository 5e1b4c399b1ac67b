import SkylensCore

/// What the files in `rules/` declare, validated: log groups to create and metric filters to apply.
package struct RuleSet: Sendable {
    package struct LogGroup: Sendable, Equatable {
        package var name: String
        package var retentionInDays: Int?
    }

    package var logGroups: [LogGroup] = []
    /// Metric filters; a group name ending in `*` applies to every group with that prefix (a Skylens extension).
    package var metricFilters: [StoredMetricFilter] = []

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
