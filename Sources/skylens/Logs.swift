import ArgumentParser
import Foundation
import SkylensClient
import SkylensCore
import SkylensServer
import SkylensWire

/// `skylens logs …`: the CloudWatch Logs side of the CLI.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, read, search, tail and ship log events.",
        subcommands: [Groups.self, Streams.self, Get.self, Filter.self, Tail.self, Put.self]
    )
}

extension Logs {
    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List log groups: name, retention, stored bytes.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only groups whose name starts with this.") var prefix: String?

        func run() async throws {
            try await reportingErrors {
                var token: String?
                repeat {
                    let page = try await options.client.logs("DescribeLogGroups", { w in
                        w.fieldIfPresent("logGroupNamePrefix", prefix)
                        w.fieldIfPresent("nextToken", token)
                    }, as: LogsModels.DescribeLogGroups.self)
                    for g in page.logGroups {
                        if options.output == .json {
                            Output.jsonObject { w in
                                w.field("logGroupName", g.logGroupName)
                                w.fieldIfPresent("creationTime", g.creationTime)
                                w.fieldIfPresent("retentionInDays", g.retentionInDays)
                                w.fieldIfPresent("storedBytes", g.storedBytes)
                            }
                        } else {
                            let retention = g.retentionInDays.map { "\($0)d" } ?? "never"
                            Output.line("\(g.logGroupName)\t\(retention)\t\(g.storedBytes ?? 0)")
                        }
                    }
                    token = page.nextToken
                } while token != nil
            }
        }
    }

    struct Streams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the streams of a log group, most recent first.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Log group name.") var group: String

        func run() async throws {
            try await reportingErrors {
                var token: String?
                repeat {
                    let page = try await options.client.logs("DescribeLogStreams", { w in
                        w.field("logGroupName", group)
                        w.field("orderBy", "LastEventTime")
                        w.field("descending", true)
                        w.fieldIfPresent("nextToken", token)
                    }, as: LogsModels.DescribeLogStreams.self)
                    for s in page.logStreams {
                        if options.output == .json {
                            Output.jsonObject { w in
                                w.field("logStreamName", s.logStreamName)
                                w.fieldIfPresent("creationTime", s.creationTime)
                                w.fieldIfPresent("firstEventTimestamp", s.firstEventTimestamp)
                                w.fieldIfPresent("lastEventTimestamp", s.lastEventTimestamp)
                            }
                        } else {
                            let last = s.lastEventTimestamp.map(TimeExpression.format) ?? "-"
                            Output.line("\(s.logStreamName)\t\(last)")
                        }
                    }
                    token = page.nextToken
                } while token != nil
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the events of one stream, oldest first.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Log group name.") var group: String
        @Argument(help: "Log stream name.") var stream: String
        @Option(help: "Start: a duration back from now (15m, 1h, 2d), epoch ms, or an ISO 8601 date.") var since: String?
        @Option(help: "End (exclusive), in the same forms as --since.") var until: String?
        @Option(help: "Stop after this many events.") var limit: Int?

        func run() async throws {
            try await reportingErrors {
                let window = try TimeWindow(since: since, until: until)
                var token: String?
                var printed = 0
                while true {
                    let page = try await options.client.logs("GetLogEvents", { w in
                        w.field("logGroupName", group)
                        w.field("logStreamName", stream)
                        w.field("startFromHead", true)
                        w.fieldIfPresent("startTime", window.start)
                        w.fieldIfPresent("endTime", window.end)
                        w.fieldIfPresent("nextToken", token)
                    }, as: LogsModels.GetLogEvents.self)
                    for e in page.events {
                        if let limit, printed >= limit { return }
                        EventPrinter.print(stream: nil, timestamp: e.timestamp, message: e.message, format: options.output)
                        printed += 1
                    }
                    // The end of the stream: the forward token comes back unchanged.
                    if page.events.isEmpty || page.nextForwardToken == token || page.nextForwardToken == nil { return }
                    token = page.nextForwardToken
                }
            }
        }
    }

    struct Filter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search a log group with a CloudWatch filter pattern.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Log group name.") var group: String
        @Option(help: "Filter pattern, e.g. ERROR or '\"connection refused\"' (default: every event).") var pattern: String?
        @Option(help: "Start: a duration back from now (15m, 1h, 2d), epoch ms, or an ISO 8601 date.") var since: String?
        @Option(help: "End (exclusive), in the same forms as --since.") var until: String?
        @Option(name: .customLong("stream-prefix"), help: "Only streams whose name starts with this.") var streamPrefix: String?
        @Option(help: "Stop after this many events.") var limit: Int?

        func run() async throws {
            try await reportingErrors {
                let window = try TimeWindow(since: since, until: until)
                var token: String?
                var printed = 0
                repeat {
                    let page = try await options.client.logs("FilterLogEvents", { w in
                        w.field("logGroupName", group)
                        w.fieldIfPresent("filterPattern", pattern)
                        w.fieldIfPresent("startTime", window.start)
                        w.fieldIfPresent("endTime", window.end)
                        w.fieldIfPresent("logStreamNamePrefix", streamPrefix)
                        w.fieldIfPresent("nextToken", token)
                    }, as: LogsModels.FilterLogEvents.self)
                    for e in page.events {
                        if let limit, printed >= limit { return }
                        EventPrinter.print(stream: e.logStreamName, timestamp: e.timestamp, message: e.message, format: options.output)
                        printed += 1
                    }
                    token = page.nextToken
                } while token != nil
            }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a log group's recent events; with --follow, keep printing new ones as they are committed.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Log group name.") var group: String
        @Flag(name: .shortAndLong, help: "Keep the stream open and print events as they arrive.") var follow = false
        @Option(help: "Filter pattern (default: every event).") var pattern: String?
        @Option(help: "How far back to start (default 10m).") var since: String = "10m"

        func run() async throws {
            try await reportingErrors {
                let start = try TimeWindow(since: since, until: nil).start
                let events = try await options.client.tail(group: group, pattern: pattern, since: start, follow: follow)
                do {
                    for try await e in events {
                        EventPrinter.print(stream: e.logStreamName, timestamp: e.timestamp, message: e.message, format: options.output)
                    }
                } catch let error as ClientError {
                    throw error
                } catch {
                    throw ClientError(.badResponse, "the tail stream broke off: \(error)")
                }
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ship lines from standard input as log events (creating the group and stream if needed).")
        @OptionGroup var options: ClientOptions
        @Option(help: "Log group name.") var group: String
        @Option(help: "Log stream name.") var stream: String

        func run() async throws {
            try await reportingErrors {
                let shipper = try await LogShipping.start(client: options.client, group: group, stream: stream)
                try await LogShipping.ship(LineReader.lines(FileHandle.standardInput), into: shipper)
            }
        }
    }
}

/// Prints events as `time [stream] message` or as one JSON object a line.
enum EventPrinter {
    static func print(stream: String?, timestamp: Int64, message: String, format: OutputFormat) {
        switch format {
        case .text:
            if let stream {
                Output.line("\(TimeExpression.format(timestamp)) \(stream) \(message)")
            } else {
                Output.line("\(TimeExpression.format(timestamp)) \(message)")
            }
        case .json:
            Output.jsonObject { w in
                w.fieldIfPresent("logStreamName", stream)
                w.field("timestamp", timestamp)
                w.field("message", message)
            }
        }
    }
}

/// `--since` / `--until` resolved to epoch milliseconds.
struct TimeWindow {
    var start: Int64?
    var end: Int64?

    init(since: String?, until: String?) throws {
        let now = SystemWallClock().nowMillis()
        do {
            start = try since.map { text throws(TimeExpression.ParseError) in try TimeExpression.resolve(text, now: now) }
            end = try until.map { text throws(TimeExpression.ParseError) in try TimeExpression.resolve(text, now: now) }
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Shared by `logs put` and `run`: ship lines in batches, flushing every 200 ms while they arrive.
enum LogShipping {
    static func start(client: CollectorClient, group: String, stream: String) async throws -> LogShipper {
        try await client.ensureStream(group: group, stream: stream)
        return LogShipper(client: client, group: group, stream: stream, clock: SystemWallClock())
    }

    static func ship(_ lines: AsyncStream<String>, into shipper: LogShipper) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(200))
                    try await shipper.flush()
                }
            }
            for await line in lines { try await shipper.add(line) }
            tasks.cancelAll()
            // The flusher ends with CancellationError; anything else is a real failure.
            do { try await tasks.next() } catch is CancellationError {}
        }
        try await shipper.flush()
    }
}
