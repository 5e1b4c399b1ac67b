import ArgumentParser
import Foundation
import SkylensClient
import SkylensCore
import SkylensWire

/// `skylens alarms …`: alarm states at a glance, an alarm's history, and setting a state by hand.
struct Alarms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List alarms with their states, show an alarm's history, set a state.",
        subcommands: [List.self, History.self, SetState.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every alarm with its state (ALARM red, OK green, INSUFFICIENT_DATA grey on a terminal).",
            discussion: "Example: skylens alarms list --state ALARM")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only alarms whose names start with this.") var prefix: String?
        @Option(help: "Only alarms in this state: OK, ALARM or INSUFFICIENT_DATA.") var state: String?

        func run() async throws {
            if let state, AlarmState(rawValue: state) == nil { throw ValidationError("--state must be OK, ALARM or INSUFFICIENT_DATA") }
            try await reportingErrors {
                var token: String?
                let colour = options.output == .text && isatty(STDOUT_FILENO) == 1
                repeat {
                    let page = try await options.client.cloudWatch("DescribeAlarms") { w in
                        w.fieldIfPresent("AlarmNamePrefix", prefix)
                        w.fieldIfPresent("StateValue", state)
                        w.fieldIfPresent("NextToken", token)
                    }
                    for alarm in page["MetricAlarms"]?.array ?? [] {
                        let name = alarm["AlarmName"]?.string ?? ""
                        let value = alarm["StateValue"]?.string ?? ""
                        let metric = "\(alarm["Namespace"]?.string ?? "")/\(alarm["MetricName"]?.string ?? "")"
                        let statistic = alarm["Statistic"]?.string ?? alarm["ExtendedStatistic"]?.string ?? ""
                        let rule = "\(statistic) \(Self.symbol(alarm["ComparisonOperator"]?.string ?? "")) "
                            + "\(alarm["Threshold"]?.number.map { AlarmFormat.javaDouble($0) } ?? "band")"
                            + " for \(alarm["DatapointsToAlarm"]?.number.map { Int($0) } ?? 0) of \(alarm["EvaluationPeriods"]?.number.map { Int($0) } ?? 0)"
                            + " × \(alarm["Period"]?.number.map { Int($0) } ?? 0)s"
                        if options.output == .json {
                            Output.jsonObject { w in
                                w.field("name", name)
                                w.field("state", value)
                                w.field("metric", metric)
                                w.field("rule", rule)
                                w.field("reason", alarm["StateReason"]?.string ?? "")
                            }
                        } else {
                            let shown = value.padding(toLength: 17, withPad: " ", startingAt: 0)
                            Output.line("\(colour ? Self.paint(shown, value) : shown) \(name)\t\(metric)\t\(rule)")
                        }
                    }
                    token = page["NextToken"]?.string
                } while token != nil
            }
        }

        static func symbol(_ op: String) -> String {
            switch op {
            case "GreaterThanThreshold": ">"
            case "GreaterThanOrEqualToThreshold": ">="
            case "LessThanThreshold": "<"
            case "LessThanOrEqualToThreshold": "<="
            default: op
            }
        }

        /// ALARM red, OK green, INSUFFICIENT_DATA grey.
        static func paint(_ text: String, _ state: String) -> String {
            let code = state == "ALARM" ? "31;1" : state == "OK" ? "32" : "90"
            return "\u{1B}[\(code)m\(text)\u{1B}[0m"
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An alarm's history, newest first: state changes, configuration updates, actions.",
            discussion: "Example: skylens alarms history errors-high --type StateUpdate")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The alarm's name.") var name: String
        @Option(help: "StateUpdate, ConfigurationUpdate or Action.") var type: String?
        @Option(help: "At most this many items.") var limit = 50

        func run() async throws {
            try await reportingErrors {
                let page = try await options.client.cloudWatch("DescribeAlarmHistory") { w in
                    w.field("AlarmName", name)
                    w.fieldIfPresent("HistoryItemType", type)
                    w.field("MaxRecords", min(max(limit, 1), 100))
                }
                for item in page["AlarmHistoryItems"]?.array ?? [] {
                    let time = item["Timestamp"]?.number.map { ISO8601.string($0) } ?? ""
                    let kind = item["HistoryItemType"]?.string ?? ""
                    let summary = item["HistorySummary"]?.string ?? ""
                    if options.output == .json {
                        Output.jsonObject { w in
                            w.field("time", time)
                            w.field("type", kind)
                            w.field("summary", summary)
                            w.field("data", item["HistoryData"]?.string ?? "")
                        }
                    } else {
                        var line = "\(time)\t\(kind)\t\(summary)"
                        if kind == "StateUpdate", let data = item["HistoryData"]?.string,
                           let reason = (try? JSONValue.parse(data))?["newState"]?["stateReason"]?.string {
                            line += "\n\t\(reason)"
                        }
                        Output.line(line)
                    }
                }
            }
        }
    }

    struct SetState: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-state",
            abstract: "Set an alarm's state by hand (until its next evaluation), as SetAlarmState does.",
            discussion: "Example: skylens alarms set-state errors-high ALARM --reason \"testing the pager\"")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The alarm's name.") var name: String
        @Argument(help: "OK, ALARM or INSUFFICIENT_DATA.") var state: String
        @Option(help: "The state reason.") var reason = "Set by skylens alarms set-state"

        func run() async throws {
            guard AlarmState(rawValue: state) != nil else { throw ValidationError("the state must be OK, ALARM or INSUFFICIENT_DATA") }
            try await reportingErrors {
                _ = try await options.client.cloudWatch("SetAlarmState") { w in
                    w.field("AlarmName", name)
                    w.field("StateValue", state)
                    w.field("StateReason", reason)
                }
                Output.line("\(name): \(state)")
            }
        }
    }
}
