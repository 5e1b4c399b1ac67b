import ArgumentParser
import Foundation
import SkylensClient
import SkylensCore
import SkylensServer
import SkylensWire

/// `skylens metrics …`: list series and read their statistics, as a table or a terminal chart.
struct Metrics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List metrics and read their statistics.",
        subcommands: [List.self, Get.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List metric series: namespace, name, dimensions.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only this namespace.") var namespace: String?
        @Option(help: "Only this metric name.") var name: String?

        func run() async throws {
            try await reportingErrors {
                var token: String?
                repeat {
                    let page = try await options.client.cloudWatch("ListMetrics") { w in
                        w.fieldIfPresent("Namespace", namespace)
                        w.fieldIfPresent("MetricName", name)
                        w.fieldIfPresent("NextToken", token)
                    }
                    for metric in page["Metrics"]?.array ?? [] {
                        let dims = (metric["Dimensions"]?.array ?? []).compactMap { d -> String? in
                            guard let n = d["Name"]?.string, let v = d["Value"]?.string else { return nil }
                            return "\(n)=\(v)"
                        }
                        if options.output == .json {
                            Output.jsonObject { w in
                                w.field("namespace", metric["Namespace"]?.string ?? "")
                                w.field("name", metric["MetricName"]?.string ?? "")
                                w.key("dimensions")
                                w.beginArray()
                                for d in dims { w.string(d) }
                                w.endArray()
                            }
                        } else {
                            Output.line("\(metric["Namespace"]?.string ?? "")\t\(metric["MetricName"]?.string ?? "")\t\(dims.joined(separator: ","))")
                        }
                    }
                    token = page["NextToken"]?.string
                } while token != nil
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read one statistic of a series over time, as a table or a chart.",
            discussion: "Example: skylens metrics get AWS/Lambda Duration --dim FunctionName=orders --stat p99 --period 5m --since 3h --chart")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Namespace, e.g. AWS/Lambda.") var namespace: String
        @Argument(help: "Metric name, e.g. Duration.") var name: String
        @Option(name: .customLong("dim"), help: "A dimension as name=value (repeat for several; the set must match exactly).")
        var dimensions: [String] = []
        @Option(help: "Average, Sum, SampleCount, Minimum, Maximum or a percentile such as p99 or p99.9.") var stat = "Average"
        @Option(help: "Period: 1s, 5s, 10s, 30s, or whole minutes (1m, 5m, 1h).") var period = "1m"
        @Option(help: "How far back to start (default 3h), or an ISO 8601 date.") var since = "3h"
        @Option(help: "End (default now).") var until: String?
        @Flag(help: "Draw a bar chart in the terminal.") var chart = false

        func run() async throws {
            guard let statistic = Statistic(stat) else { throw ValidationError("unknown statistic '\(stat)'") }
            guard let periodMillis = TimeExpression.duration(period) ?? Int64(period).map({ $0 * 1000 }),
                  periodMillis % 1000 == 0, MetricPeriod.isValid(Int(periodMillis / 1000)) else {
                throw ValidationError("--period must be 1s, 5s, 10s, 30s or a whole number of minutes")
            }
            var dims: [(String, String)] = []
            for d in dimensions {
                guard let eq = d.firstIndex(of: "="), eq != d.startIndex else { throw ValidationError("--dim takes name=value, not '\(d)'") }
                dims.append((String(d[..<eq]), String(d[d.index(after: eq)...])))
            }
            let window = try TimeWindow(since: since, until: until)
            let end = window.end ?? SystemWallClock().nowMillis()
            let start = window.start ?? end - 3 * 3_600_000
            try await reportingErrors {
                let answer = try await options.client.cloudWatch("GetMetricStatistics") { w in
                    w.field("Namespace", namespace)
                    w.field("MetricName", name)
                    w.key("Dimensions")
                    w.beginArray()
                    for (n, v) in dims {
                        w.beginObject()
                        w.field("Name", n)
                        w.field("Value", v)
                        w.endObject()
                    }
                    w.endArray()
                    w.key("StartTime"); w.double(Double(start) / 1000)
                    w.key("EndTime"); w.double(Double(end) / 1000)
                    w.field("Period", Int(periodMillis / 1000))
                    w.key(statistic.isPercentile ? "ExtendedStatistics" : "Statistics")
                    w.beginArray()
                    w.string(statistic.description)
                    w.endArray()
                }
                let points: [(Int64, Double)] = (answer["Datapoints"]?.array ?? []).compactMap { p in
                    guard let t = p["Timestamp"]?.number else { return nil }
                    let v = statistic.isPercentile ? p["ExtendedStatistics"]?[statistic.description]?.number : p[statistic.description]?.number
                    return v.map { (Int64(t * 1000), $0) }
                }.sorted { $0.0 < $1.0 }
                let unit = answer["Datapoints"]?.array?.first?["Unit"]?.string ?? "None"
                MetricPrinter.print(points, statistic: statistic.description, unit: unit, chart: chart, format: options.output)
            }
        }
    }
}

extension Statistic {
    var isPercentile: Bool { if case .percentile = self { true } else { false } }
}

/// Renders datapoints as `TIME VALUE` lines, JSON lines, or horizontal bars.
enum MetricPrinter {
    static func print(_ points: [(Int64, Double)], statistic: String, unit: String, chart: Bool, format: OutputFormat) {
        if format == .json {
            for (t, v) in points {
                Output.jsonObject { w in
                    w.field("timestamp", t)
                    w.key(statistic)
                    w.double(v)
                    w.field("unit", unit)
                }
            }
            return
        }
        guard !points.isEmpty else {
            Output.line("no datapoints")
            return
        }
        guard chart else {
            for (t, v) in points { Output.line("\(TimeExpression.format(t))\t\(number(v))") }
            return
        }
        let width = 50
        let high = max(points.map(\.1).max() ?? 0, 0), low = min(points.map(\.1).min() ?? 0, 0)
        let span = high - low == 0 ? 1 : high - low
        Output.line("\(statistic) (\(unit)), min \(number(points.map(\.1).min() ?? 0)), max \(number(points.map(\.1).max() ?? 0))")
        for (t, v) in points {
            let cells = Int(((v - low) / span * Double(width)).rounded())
            Output.line("\(TimeExpression.format(t).prefix(19)) │\(String(repeating: "█", count: cells))\(String(repeating: " ", count: width - cells)) \(number(v))")
        }
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.3f", v)
    }
}
