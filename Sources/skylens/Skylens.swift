import ArgumentParser

/// The `skylens` command tree. Each command parses its arguments and calls a library.
@main
struct Skylens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skylens",
        abstract: "CloudWatch Logs, Metrics, Alarms, X-Ray and SNS for functions, in one self-hosted binary.",
        subcommands: [Serve.self, Logs.self, Run.self, Patterns.self, Metrics.self, Alarms.self, Traces.self, DLQ.self, Rules.self]
    )
}
