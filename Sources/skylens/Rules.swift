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
                Output.line("\(dir): ok: \(rules.metricFilters.count) metric filter(s), \(rules.logGroups.count) log group(s)")
                for f in rules.metricFilters {
                    Output.line("  metric filter \(f.name) on \(f.group): \(f.transformation.metricNamespace)/\(f.transformation.metricName)")
                }
                for g in rules.logGroups {
                    Output.line("  log group \(g.name), retention \(g.retentionInDays.map { "\($0) days" } ?? "never expires")")
                }
            case .failure(let error):
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}
