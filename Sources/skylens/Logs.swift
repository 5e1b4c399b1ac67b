import ArgumentParser

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, read, search, tail and ship log events.",
        subcommands: []
    )
}
struct Run: AsyncParsableCommand {}
