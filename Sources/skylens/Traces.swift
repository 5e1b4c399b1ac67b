import ArgumentParser
import Foundation
import SkylensClient
import SkylensCore
import SkylensServer
import SkylensWire

/// `skylens traces …`: find traces with filter expressions, show one as a waterfall with its log lines, and draw
/// the service map.
struct Traces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find traces, show one as a waterfall, draw the service map.",
        subcommands: [Find.self, Show.self, Map.self]
    )

    static func window(_ since: String) throws -> (Double, Double) {
        let now = SystemWallClock().nowMillis()
        let start = try TimeWindow(since: since, until: nil).start ?? now - 15 * 60_000
        return (Double(start) / 1000, Double(now) / 1000 + 1)
    }

    static var colour: Bool { isatty(STDOUT_FILENO) == 1 }

    static func paint(_ text: String, fault: Bool, error: Bool, throttle: Bool) -> String {
        guard colour, fault || error || throttle else { return text }
        let code = fault ? "31;1" : throttle ? "35" : "33"
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    static func millis(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List trace summaries (GetTraceSummaries), newest last.",
            discussion: #"Example: skylens traces find --filter 'service("orders") { fault } AND annotation.customer = "c42"' --since 1h"#)
        @OptionGroup var options: ClientOptions
        @Option(help: "An X-Ray filter expression.") var filter: String?
        @Option(help: "How far back to look (default 15m), or an ISO 8601 date.") var since = "15m"
        @Option(name: .customLong("range-type"), help: "TraceId (default), Event or Service.") var rangeType = "TraceId"

        func run() async throws {
            try await reportingErrors {
                let (start, end) = try Traces.window(since)
                var token: String?
                var count = 0
                var first = true
                repeat {
                    let page = try await options.client.xray("/TraceSummaries") { w in
                        w.key("StartTime"); w.double(start)
                        w.key("EndTime"); w.double(end)
                        w.field("TimeRangeType", rangeType)
                        w.fieldIfPresent("FilterExpression", filter)
                        w.fieldIfPresent("NextToken", token)
                    }
                    if first, options.output == .text {
                        Output.line(["TRACE ID", "START", "DURATION", "STATUS", "REQUEST", "FLAGS", "SERVICES"].joined(separator: "\t"))
                    }
                    first = false
                    for s in page["TraceSummaries"]?.array ?? [] {
                        count += 1
                        if options.output == .json {
                            Output.line(String(decoding: s.jsonBytes, as: UTF8.self))
                            continue
                        }
                        let http = s["Http"]
                        let flags = [("fault", s["HasFault"]?.bool), ("error", s["HasError"]?.bool), ("throttle", s["HasThrottle"]?.bool),
                                     ("partial", s["IsPartial"]?.bool)].filter { $0.1 == true }.map(\.0).joined(separator: ",")
                        let row = [
                            s["Id"]?.string ?? "",
                            TimeExpression.format(Int64((s["StartTime"]?.number ?? 0) * 1000)),
                            Traces.millis(s["Duration"]?.number ?? 0),
                            http?["HttpStatus"]?.number.map { String(Int($0)) } ?? "-",
                            [http?["HttpMethod"]?.string, http?["HttpURL"]?.string].compactMap { $0 }.joined(separator: " "),
                            flags.isEmpty ? "-" : flags,
                            (s["ServiceIds"]?.array ?? []).compactMap { $0["Name"]?.string }.joined(separator: ","),
                        ].joined(separator: "\t")
                        Output.line(Traces.paint(row, fault: s["HasFault"]?.bool == true, error: s["HasError"]?.bool == true,
                                                 throttle: s["HasThrottle"]?.bool == true))
                    }
                    token = page["NextToken"]?.string
                } while token != nil
                if options.output == .text, count == 0 { Output.line("(no traces)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one trace as a waterfall: every segment and subsegment with its timing, annotations, then its log lines.",
            discussion: "Example: skylens traces show 1-5759e988-bd862e3fe1be46a994272793")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The trace id.") var id: String

        func run() async throws {
            try await reportingErrors {
                let answer = try await options.client.xray("/Traces") { w in
                    w.key("TraceIds"); w.beginArray(); w.string(id); w.endArray()
                }
                guard let trace = answer["Traces"]?.array?.first else {
                    throw ClientError(.aws(code: "NotFound", status: 404), "trace \(id) not found")
                }
                let logs = try await options.client.traceLogs(id)
                if options.output == .json {
                    Output.line(String(decoding: WireValue.map([("trace", trace), ("logs", logs["events"] ?? .array([]))]).jsonBytes,
                                       as: UTF8.self))
                    return
                }
                let documents = (trace["Segments"]?.array ?? []).compactMap { s -> Segment? in
                    guard let text = s["Document"]?.string else { return nil }
                    return try? Segment.parse(JSONValue.parse(text), nowSeconds: 0)
                }
                let assembled = TraceAssembler.assemble(id: trace["Id"]?.string ?? id, documents: documents)
                for line in Waterfall(trace: assembled, colour: Traces.colour).lines() { Output.line(line) }
                let events = logs["events"]?.array ?? []
                Output.line("")
                Output.line(events.isEmpty ? "No log lines name this trace." : "Log lines:")
                for e in events {
                    let t = TimeExpression.format(Int64(e["timestamp"]?.number ?? 0))
                    let message = (e["message"]?.string ?? "").replacingOccurrences(of: "\n", with: " ")
                    Output.line("  \(t)  \(e["logGroupName"]?.string ?? "") \(e["logStreamName"]?.string ?? "")  \(message)")
                }
            }
        }
    }

    struct Map: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the service map: each service with its calls, rates, errors and faults, and p50/p99 latency.",
            discussion: "Example: skylens traces map --since 1h")
        @OptionGroup var options: ClientOptions
        @Option(help: "How far back to look (default 1h), or an ISO 8601 date.") var since = "1h"

        func run() async throws {
            try await reportingErrors {
                let (start, end) = try Traces.window(since)
                let graph = try await options.client.xray("/ServiceGraph") { w in
                    w.key("StartTime"); w.double(start)
                    w.key("EndTime"); w.double(end)
                }
                let services = graph["Services"]?.array ?? []
                if options.output == .json {
                    for s in services { Output.line(String(decoding: s.jsonBytes, as: UTF8.self)) }
                    return
                }
                guard !services.isEmpty else {
                    Output.line("(no services in this window)")
                    return
                }
                let minutes = max(1, (end - start) / 60)
                let names = Dictionary(services.map { (Int($0["ReferenceId"]?.number ?? -1), $0) }, uniquingKeysWith: { a, _ in a })
                func label(_ s: WireValue) -> String {
                    let type = s["Type"]?.string ?? ""
                    return (s["Name"]?.string ?? "?") + (type.isEmpty ? "" : " (\(type))")
                }
                for s in services.sorted(by: { ($0["Root"]?.bool == true ? 0 : 1, $0["Name"]?.string ?? "") < ($1["Root"]?.bool == true ? 0 : 1, $1["Name"]?.string ?? "") }) {
                    let stats = s["SummaryStatistics"]
                    Output.line(Traces.paint("\(s["Root"]?.bool == true ? "● " : "○ ")\(label(s))  \(MapFigures(stats, histogram: s["ResponseTimeHistogram"], minutes: minutes))",
                                             fault: (stats?["FaultStatistics"]?["TotalCount"]?.number ?? 0) > 0, error: false, throttle: false))
                    for e in s["Edges"]?.array ?? [] {
                        guard let target = names[Int(e["ReferenceId"]?.number ?? -1)] else { continue }
                        let es = e["SummaryStatistics"]
                        Output.line(Traces.paint("   └─▶ \(label(target))  \(MapFigures(es, histogram: e["ResponseTimeHistogram"], minutes: minutes))",
                                                 fault: (es?["FaultStatistics"]?["TotalCount"]?.number ?? 0) > 0,
                                                 error: (es?["ErrorStatistics"]?["TotalCount"]?.number ?? 0) > 0, throttle: false))
                    }
                }
            }
        }
    }
}

/// "12 req (0.2/min)  errors 1  faults 1  p50 12.0 ms  p99 40.0 ms" from X-Ray statistics and a histogram.
struct MapFigures: CustomStringConvertible {
    let description: String

    init(_ stats: WireValue?, histogram: WireValue?, minutes: Double) {
        let total = stats?["TotalCount"]?.number ?? 0
        let errors = stats?["ErrorStatistics"]?["TotalCount"]?.number ?? 0
        let faults = stats?["FaultStatistics"]?["TotalCount"]?.number ?? 0
        // The histogram (seconds → count) read back into Core's statistics, whose percentile the map uses.
        var stats = ServiceStatistics()
        for e in histogram?.array ?? [] {
            if let v = e["Value"]?.number, let c = e["Count"]?.number { stats.histogram[Int64((v * 1000).rounded()), default: 0] += Int64(c) }
        }
        func percentile(_ p: Double) -> String { stats.percentile(p).map { Traces.millis(Double($0) / 1000) } ?? "-" }
        description = String(format: "%d req (%.1f/min)  errors %d  faults %d  p50 %@  p99 %@", Int(total), total / minutes, Int(errors),
                             Int(faults), percentile(0.5), percentile(0.99))
    }
}

/// A trace drawn as rows: each segment and subsegment indented under its caller, with a bar placed on the trace's
/// time line, its duration, HTTP status and flags; annotations below the segment that recorded them.
struct Waterfall {
    let trace: AssembledTrace
    let colour: Bool
    static let width = 40

    func lines() -> [String] {
        let facts = TraceFacts(trace)
        var out = ["Trace \(trace.id)  duration \(Traces.millis(facts.duration))  " +
            "response \(facts.responseTime.map(Traces.millis) ?? "-")  status \(facts.http?.status.map(String.init) ?? "-")" +
            (facts.isPartial ? "  (partial)" : "")]
        let index = trace.locate()
        var calledFrom: [String: [Segment]] = [:]
        var roots: [Segment] = []
        for s in trace.segments {
            if let parent = s.parentID ?? trace.asyncParent(of: s.id), index[parent] != nil {
                calledFrom[parent, default: []].append(s)
            } else {
                roots.append(s)
            }
        }
        for list in calledFrom.keys { calledFrom[list]?.sort { $0.startTime < $1.startTime } }
        let origin = facts.startTime, span = max(facts.duration, 1e-6)
        func row(_ s: Segment, depth: Int, isSegment: Bool) {
            let offset = Int(((s.startTime - origin) / span * Double(Self.width)).rounded(.down))
            let length = max(1, Int((s.duration / span * Double(Self.width)).rounded()))
            let bar = String(repeating: " ", count: min(Self.width, max(0, offset)))
                + String(repeating: isSegment ? "█" : "▒", count: min(length, Self.width - min(Self.width, max(0, offset))))
            let name = String(repeating: "  ", count: depth) + s.name + (s.inferred ? " (inferred)" : "")
                + (isSegment && !ServiceID(s).type.isEmpty ? " [\(ServiceID(s).type)]" : "")
            let flags = [s.fault ? "fault" : nil, s.error ? "error" : nil, s.throttle ? "throttle" : nil, s.inProgress ? "in progress" : nil]
                .compactMap { $0 }.joined(separator: ",")
            let text = name.padding(toLength: max(name.count, 44), withPad: " ", startingAt: 0) + " │"
                + bar.padding(toLength: Self.width, withPad: " ", startingAt: 0) + "│ "
                + Traces.millis(s.duration).leftPadded(10) + "  " + (s.http.status.map(String.init) ?? "   ") + (flags.isEmpty ? "" : "  " + flags)
            out.append(colour ? Traces.paint(text, fault: s.fault, error: s.error, throttle: s.throttle) : text)
            if !s.annotations.isEmpty {
                out.append(String(repeating: "  ", count: depth + 1) + "annotations: "
                    + s.annotations.map { "\($0.key)=\(Self.text($0.value))" }.joined(separator: ", "))
            }
            for sub in s.subsegments.sorted(by: { $0.startTime < $1.startTime }) { row(sub, depth: depth + 1, isSegment: false) }
            for callee in calledFrom[s.id] ?? [] { row(callee, depth: depth + 1, isSegment: true) }
        }
        for r in roots.sorted(by: { $0.startTime < $1.startTime }) { row(r, depth: 0, isSegment: true) }
        for o in trace.orphans { row(o, depth: 0, isSegment: false) }
        return out
    }

    static func text(_ v: AnnotationValue) -> String {
        switch v {
        case .string(let s): "\"\(s)\""
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): String(b)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
