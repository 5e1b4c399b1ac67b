import ArgumentParser
import Foundation
import SkylensRules

/// `skylens rules …`: the CloudFormation-style rule files of `rules/`.
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the rule files.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every *.yaml / *.yml file of a rules directory; problems are printed as file:line:column (exit 1).")
        @Argument(help: "The rules directory (default: SKYLENS_RULES_DIR or ./rules).") var directory: String?

        func run() async throws {
            let dir = directory ?? ProcessInfo.processInfo.environment["SKYLENS_RULES_DIR"] ?? "rules"
            switch RulesLoader.load(directory: dir) {
            case .success(let rules):
                Output.line("\(dir): ok: \(rules.metricFilters.count) metric filter(s), \(rules.logGroups.count) log group(s), "
                    + "\(rules.alarms.count) alarm(s), \(rules.topics.count) topic(s), \(rules.subscriptions.count) subscription(s)")
                for f in rules.metricFilters {
                    Output.line("  metric filter \(f.name) on \(f.group): \(f.transformation.metricNamespace)/\(f.transformation.metricName)")
                }
                for g in rules.logGroups {
                    Output.line("  log group \(g.name), retention \(g.retentionInDays.map { "\($0) days" } ?? "never expires")")
                }
                for a in rules.alarms {
                    Output.line("  alarm \(a.name): \(a.series.namespace)/\(a.series.name) \(a.statistic) \(a.comparison.rawValue) "
                        + "\(a.threshold.map { "\($0)" } ?? "band"), \(a.datapointsToAlarm) of \(a.evaluationPeriods) × \(a.period)s")
                }
                for t in rules.topics { Output.line("  topic \(t.name)") }
                for s in rules.subscriptions { Output.line("  subscription \(s.protocolName) \(s.endpoint) to \(s.topicArn)") }
            case .failure(let error):
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}
