/// Lambda's platform lines, in the text format (`START`, `END`, `REPORT`, timeouts) and the JSON format
/// (`platform.start`, `platform.report`, …), parsed into what per-function metrics need.
///
/// Text REPORT lines separate fields with tabs (or, in some renderings, runs of spaces) and may end with a tab;
/// `Init Duration` appears only on cold starts, `Restore Duration` on SnapStart restores, and X-Ray fields may
/// follow in the same event.
package enum LambdaPlatformLine: Sendable, Equatable {
    case start(requestId: String, version: String?)
    case end(requestId: String)
    case report(Report)
    /// `… Task timed out after 3.00 seconds`.
    case timeout(requestId: String?, afterSeconds: Double?)

    package struct Report: Sendable, Equatable {
        package var requestId: String
        package var durationMs: Double?
        package var billedDurationMs: Double?
        package var memorySizeMB: Double?
        package var maxMemoryUsedMB: Double?
        package var initDurationMs: Double?
        package var restoreDurationMs: Double?
        package var billedRestoreDurationMs: Double?
        /// `success`, `error`, `failure` or `timeout` when the line says (JSON format, or a text `Status:` field).
        package var status: String?
        package var traceId: String?

        package init(requestId: String) { self.requestId = requestId }

        package var isColdStart: Bool { initDurationMs != nil }
        /// A failed invocation other than a timeout (timeouts are counted from their own line, once).
        package var isError: Bool { status == "error" || status == "failure" }
    }

    /// Parses one log message; nil when it is not a platform line.
    package static func parse(_ message: String) -> LambdaPlatformLine? {
        if message.hasPrefix("{") { return parseJSON(message) }
        if message.hasPrefix("REPORT RequestId: ") { return .report(parseReport(message)) }
        if message.hasPrefix("START RequestId: ") {
            let rest = message.dropFirst("START RequestId: ".count)
            let id = rest.prefix { !$0.isWhitespace }
            var version: String?
            if let r = rest.firstRange(of: "Version: ") { version = String(rest[r.upperBound...].prefix { !$0.isWhitespace }) }
            return .start(requestId: String(id), version: version)
        }
        if message.hasPrefix("END RequestId: ") {
            return .end(requestId: String(message.dropFirst("END RequestId: ".count).prefix { !$0.isWhitespace }))
        }
        if let r = message.firstRange(of: "Task timed out after ") {
            let seconds = Double(message[r.upperBound...].prefix { $0.isNumber || $0 == "." })
            // Runtime lines put the request id before the message: `<time> <request id> Task timed out …`.
            let words = message[..<r.lowerBound].split(whereSeparator: \.isWhitespace)
            var id: String?
            if let last = words.last, last.count == 36, last.filter({ $0 == "-" }).count == 4 { id = String(last) }
            return .timeout(requestId: id, afterSeconds: seconds)
        }
        return nil
    }

    private static func parseReport(_ message: String) -> Report {
        let body = message.dropFirst("REPORT ".count)
        // Fields are "Name: value[ unit]" separated by tabs or by two or more spaces; a single space also separates
        // fields when a known field name follows it (the documentation's rendering).
        var fields: [String: String] = [:]
        let names = ["RequestId", "Duration", "Billed Duration", "Memory Size", "Max Memory Used", "Init Duration",
                     "Restore Duration", "Billed Restore Duration", "Status", "XRAY TraceId", "SegmentId", "Sampled"]
        var text = String(body).replacingTabsWithSeparators
        // Find each known name's position, longest names first so "Billed Duration" wins over "Duration".
        var found: [(Range<String.Index>, String)] = []
        for name in names.sorted(by: { $0.count > $1.count }) {
            var search = text.startIndex..<text.endIndex
            while let r = text[search].firstRange(of: name + ": ") {
                let overlaps = found.contains { $0.0.overlaps(r) }
                let atBoundary = r.lowerBound == text.startIndex || text[text.index(before: r.lowerBound)].isWhitespace
                if !overlaps && atBoundary { found.append((r, name)); break }
                search = r.upperBound..<text.endIndex
            }
        }
        found.sort { $0.0.lowerBound < $1.0.lowerBound }
        for (k, (range, name)) in found.enumerated() {
            let end = k + 1 < found.count ? found[k + 1].0.lowerBound : text.endIndex
            fields[name] = String(text[range.upperBound..<end]).trimmingSpaces
        }
        text = ""
        func number(_ name: String) -> Double? {
            guard let v = fields[name] else { return nil }
            return Double(v.prefix { $0.isNumber || $0 == "." || $0 == "-" })
        }
        var report = Report(requestId: fields["RequestId"].map { String($0.prefix { !$0.isWhitespace }) } ?? "")
        report.durationMs = number("Duration")
        report.billedDurationMs = number("Billed Duration")
        report.memorySizeMB = number("Memory Size")
        report.maxMemoryUsedMB = number("Max Memory Used")
        report.initDurationMs = number("Init Duration")
        report.restoreDurationMs = number("Restore Duration")
        report.billedRestoreDurationMs = number("Billed Restore Duration")
        report.status = fields["Status"].map { String($0.prefix { !$0.isWhitespace }) }
        report.traceId = fields["XRAY TraceId"].map { String($0.prefix { !$0.isWhitespace }) }
        return report
    }

    private static func parseJSON(_ message: String) -> LambdaPlatformLine? {
        guard let root = try? JSONValue.parse(message), let type = root["type"]?.string, type.hasPrefix("platform."),
              let record = root["record"] else { return nil }
        switch type {
        case "platform.start":
            guard let id = record["requestId"]?.string else { return nil }
            return .start(requestId: id, version: record["version"]?.string)
        case "platform.runtimeDone" where record["status"]?.string == "timeout":
            return .timeout(requestId: record["requestId"]?.string, afterSeconds: nil)
        case "platform.report":
            guard let id = record["requestId"]?.string else { return nil }
            var report = Report(requestId: id)
            let m = record["metrics"]
            report.durationMs = m?["durationMs"]?.number
            report.billedDurationMs = m?["billedDurationMs"]?.number
            report.memorySizeMB = m?["memorySizeMB"]?.number
            report.maxMemoryUsedMB = m?["maxMemoryUsedMB"]?.number
            report.initDurationMs = m?["initDurationMs"]?.number
            report.restoreDurationMs = m?["restoreDurationMs"]?.number
            report.status = record["status"]?.string
            if let tracing = record["tracing"]?["value"]?.string, let r = tracing.firstRange(of: "Root=") {
                report.traceId = String(tracing[r.upperBound...].prefix { $0 != ";" })
            }
            return .report(report)
        default:
            return nil
        }
    }
}

/// The metrics every function gets from its platform lines, under the names AWS uses.
package enum LambdaPlatformMetrics {
    /// `/aws/lambda/<function>` → `<function>`.
    package static func functionName(fromLogGroup group: String) -> String? {
        guard group.hasPrefix("/aws/lambda/") else { return nil }
        let name = group.dropFirst("/aws/lambda/".count)
        return name.isEmpty ? nil : String(name)
    }

    /// The datums one platform line yields for `function` at `timestamp`.
    ///
    /// - `AWS/Lambda`: `Invocations` (1 per report), `Errors` (1 for a report with status error or failure, and 1
    ///   for a timeout line, so that a timeout counts once whichever format reports it), `Duration` (ms).
    /// - `LambdaInsights`: `duration`, `billed_duration`, `init_duration` (cold starts only), `total_memory`,
    ///   `used_memory_max`, `memory_utilization` (percent).
    package static func datums(for line: LambdaPlatformLine, function: String, timestamp: Int64) -> [MetricDatum] {
        let dims = ["FunctionName": function]
        func datum(_ ns: String, _ name: String, _ value: Double?, _ unit: MetricUnit) -> MetricDatum? {
            value.map { MetricDatum(namespace: ns, name: name, dimensions: dims, timestamp: timestamp, values: [$0], unit: unit) }
        }
        switch line {
        case .report(let r):
            var memoryUtilization: Double?
            if let used = r.maxMemoryUsedMB, let total = r.memorySizeMB, total > 0 { memoryUtilization = used / total * 100 }
            return [
                datum("AWS/Lambda", "Invocations", 1, .count),
                datum("AWS/Lambda", "Errors", r.isError ? 1 : 0, .count),
                datum("AWS/Lambda", "Duration", r.durationMs, .milliseconds),
                datum("LambdaInsights", "duration", r.durationMs, .milliseconds),
                datum("LambdaInsights", "billed_duration", r.billedDurationMs, .milliseconds),
                datum("LambdaInsights", "init_duration", r.initDurationMs, .milliseconds),
                datum("LambdaInsights", "total_memory", r.memorySizeMB, .megabytes),
                datum("LambdaInsights", "used_memory_max", r.maxMemoryUsedMB, .megabytes),
                datum("LambdaInsights", "memory_utilization", memoryUtilization, .percent),
            ].compactMap { $0 }
        case .timeout:
            // Every runtime prints this line (text) or a runtimeDone with status timeout (JSON) for a timeout, while
            // only some REPORTs say `Status: timeout`: the error is counted here, and not again from the report.
            return [datum("AWS/Lambda", "Errors", 1, .count)].compactMap { $0 }
        case .start, .end:
            return []
        }
    }
}

extension String {
    /// Tabs become double spaces, so that "two or more spaces" is the one field separator to look for.
    var replacingTabsWithSeparators: String {
        String(unicodeScalars.map { $0 == "\t" ? "  " : String($0) }.joined())
    }
}
