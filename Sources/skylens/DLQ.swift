import ArgumentParser
import SkylensClient

/// `skylens dlq …`: deliveries that failed for good (refused, or retries exhausted), listed and replayed.
struct DLQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List and replay the deliveries in the dead-letter queue.",
        subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead letters: id, endpoint, message type and id, attempts, last error.",
                                                        discussion: "Example: skylens dlq list")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await reportingErrors {
                for d in try await options.client.deadLetters()["deadLetters"]?.array ?? [] {
                    let id = d["id"]?.number.map { String(Int64($0)) } ?? ""
                    if options.output == .json {
                        Output.jsonObject { w in
                            w.field("id", id)
                            for key in ["topicArn", "subscriptionArn", "endpoint", "messageType", "messageId", "lastError", "body"] {
                                w.field(key, d[key]?.string ?? "")
                            }
                            w.field("attempts", Int(d["attempts"]?.number ?? 0))
                        }
                    } else {
                        Output.line("\(id)\t\(d["endpoint"]?.string ?? "")\t\(d["messageType"]?.string ?? "") \(d["messageId"]?.string ?? "")"
                            + "\t\(Int(d["attempts"]?.number ?? 0)) attempts\t\(d["lastError"]?.string ?? "")")
                    }
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back in the outbox (all, or the ids given).",
                                                        discussion: "Example: skylens dlq replay 12 13")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Dead-letter ids (from dlq list); none replays all.") var ids: [Int64] = []

        func run() async throws {
            try await reportingErrors {
                let n = try await options.client.replayDeadLetters(ids: ids)
                Output.line("replayed \(n) deliver\(n == 1 ? "y" : "ies")")
            }
        }
    }
}
