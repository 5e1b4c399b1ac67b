import ArgumentParser
import Foundation
import SkylensRules
import SkylensServer

/// `skylens rules …`: the CloudFormation-style rule files of `rules/`.
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the rule files and run their tests.", subcommands: [Check.self, Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run rule test files on a virtual clock: log events and datapoints in; metrics, alarm states and notifications checked.",
            discussion: "Example: skylens rules test rules/tests/lambda-alarms.yaml (default: every *.yaml of <rules dir>/tests)")
        @Argument(help: "Test files (default: the tests/ folder of SKYLENS_RULES_DIR or ./rules).") var files: [String] = []

        func run() async throws {
            let rulesDirectory = ProcessInfo.processInfo.environment["SKYLENS_RULES_DIR"] ?? "rules"
            var paths = files
            if paths.isEmpty {
                let dir = (rulesDirectory as NSString).appendingPathComponent("tests")
                paths = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                    .map { (dir as NSString).appendingPathComponent($0) }
                guard !paths.isEmpty else { throw ValidationError("no test files in \(dir)") }
            }
            var failed = 0, total = 0
            for path in paths {
                do {
                    let file = try RuleTestFile.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
                    let rules = try Self.rules(for: file, at: path)
                    for outcome in try await RuleTestRunner.run(file, rules: rules) {
                        total += 1
                        if outcome.passed {
                            Output.line("PASS \(path): \(outcome.name)")
                        } else {
                            failed += 1
                            Output.line("FAIL \(path): \(outcome.name)")
                            for f in outcome.failures { Output.line("     \(f)") }
                        }
                    }
                } catch {
                    failed += 1
                    FileHandle.standardError.write(Data("skylens: \(path): \(error)\n".utf8))
                }
            }
            Output.line("\(total - min(failed, total)) of \(total) test(s) passed")
            if failed > 0 { throw ExitCode(1) }
        }

        /// The rules a test file names (relative to it), or every rule file of the folder above its own.
        static func rules(for file: RuleTestFile, at path: String) throws -> RuleSet {
            let folder = (path as NSString).deletingLastPathComponent
            guard let names = file.rules else {
                return try RulesLoader.load(directory: ((folder as NSString).deletingLastPathComponent as NSString).standardizingPath).get()
            }
            var rules = RuleSet()
            var problems: [RuleDiagnostic] = []
            for name in names {
                let rulePath = ((folder as NSString).appendingPathComponent(name) as NSString).standardizingPath
                let text = try String(contentsOfFile: rulePath, encoding: .utf8)
                problems += RuleFileParser(file: rulePath, text: text).parse(into: &rules)
            }
            guard problems.isEmpty else { throw RulesError(diagnostics: problems) }
            return rules
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every *.yaml / *.yml file of a rules directory; problems are printed as file:line:column (exit 1).")
        @Argument(help: "The rules directory (default: SKYLENS_RULES_DIR or ./rules).") var directory: String?

        func run() async throws {
            let dir = directory ?? ProcessInfo.processInfo.environment["SKYLENS_RULES_DIR"] ?? "rules"
            switch RulesLoader.load(directory: dir) {
            case .success(let rules):
                Output.line("\(dir): ok: \(rules.metricFilters.count) metric filter(s), \(rules.logGroups.count) log group(s), "
                    + "\(rules.alarms.count) alarm(s), \(rules.topics.count) topic(s), \(rules.subscriptions.count) subscription(s), "
                    + "\(rules.samplingRules.count) sampling rule(s)")
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
                for r in rules.samplingRules {
                    Output.line("  sampling rule \(r.name) (priority \(r.priority)): \(r.serviceName) \(r.httpMethod) \(r.urlPath), "
                        + "\(r.reservoirSize)/s then \(r.fixedRate * 100)%")
                }
            case .failure(let error):
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}
