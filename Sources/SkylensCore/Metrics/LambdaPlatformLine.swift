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
        var copy = message
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses one log message's bytes; nil when it is not a platform line. Works on the bytes throughout: REPORT
    /// lines are a large share of a function's events.
    package static func parse(_ m: UnsafeRawBufferPointer) -> LambdaPlatformLine? {
        guard let first = m.first else { return nil }
        if first == UInt8(ascii: "{") { return parseJSON(m) }
        if m.starts(with: Prefix.report) { return .report(parseReport(UnsafeRawBufferPointer(rebasing: m[Prefix.report.count...]))) }
        if m.starts(with: Prefix.start) {
            let rest = UnsafeRawBufferPointer(rebasing: m[Prefix.start.count...])
            var version: String?
            if let v = ByteSearch.firstIndex(rest, Prefix.version) {
                version = token(UnsafeRawBufferPointer(rebasing: rest[(v + Prefix.version.count)...]))
            }
            return .start(requestId: token(rest), version: version)
        }
        if m.starts(with: Prefix.end) { return .end(requestId: token(UnsafeRawBufferPointer(rebasing: m[Prefix.end.count...]))) }
        guard let at = ByteSearch.firstIndex(m, Prefix.timeout) else { return nil }
        let after = m[(at + Prefix.timeout.count)...].prefix { isDigit($0) || $0 == UInt8(ascii: ".") }
        // Runtime lines put the request id before the message: `<time> <request id> Task timed out …`.
        let before = m[..<at].split(whereSeparator: isSpace)
        var id: String?
        if let last = before.last, last.count == 36, last.filter({ $0 == UInt8(ascii: "-") }).count == 4 {
            id = String(decoding: last, as: UTF8.self)
        }
        return .timeout(requestId: id, afterSeconds: Double(String(decoding: after, as: UTF8.self)))
    }

    private enum Prefix {
        static let report = Array("REPORT ".utf8)
        static let start = Array("START RequestId: ".utf8)
        static let end = Array("END RequestId: ".utf8)
        static let version = Array("Version: ".utf8)
        static let timeout = Array("Task timed out after ".utf8)
    }

    /// The REPORT field names, each followed by `": "`, longest first so that "Billed Duration" wins over "Duration".
    private static let reportFields: [(name: String, bytes: [UInt8])] = [
        "RequestId", "Duration", "Billed Duration", "Memory Size", "Max Memory Used", "Init Duration", "Restore Duration",
        "Billed Restore Duration", "Status", "XRAY TraceId", "SegmentId", "Sampled",
    ].sorted { $0.count > $1.count }.map { ($0, Array(($0 + ": ").utf8)) }

    /// Fields are "Name: value[ unit]" separated by tabs or runs of spaces (a single space too when a known field
    /// name follows it, as the documentation renders them). A field name counts where it starts the line or follows
    /// a space or tab; each name's first occurrence is its field; a value runs to the next field.
    private static func parseReport(_ body: UnsafeRawBufferPointer) -> Report {
        var found: [(start: Int, valueStart: Int, name: String)] = []
        var i = 0
        while i < body.count {
            if i == 0 || isSpace(body[i - 1]), let field = reportFields.first(where: { field in
                body.count - i >= field.bytes.count && found.allSatisfy { $0.name != field.name }
                    && UnsafeRawBufferPointer(rebasing: body[i..<(i + field.bytes.count)]).elementsEqual(field.bytes)
            }) {
                found.append((i, i + field.bytes.count, field.name))
                i += field.bytes.count
            } else {
                i += 1
            }
        }
        var fields: [String: Slice<UnsafeRawBufferPointer>] = [:]
        for (k, field) in found.enumerated() {
            var end = k + 1 < found.count ? found[k + 1].start : body.count
            while end > field.valueStart, isSpace(body[end - 1]) { end -= 1 }
            fields[field.name] = body[field.valueStart..<max(end, field.valueStart)]
        }
        func number(_ name: String) -> Double? {
            guard let v = fields[name] else { return nil }
            return Double(String(decoding: v.prefix { isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }, as: UTF8.self))
        }
        func word(_ name: String) -> String? { fields[name].map { token(UnsafeRawBufferPointer(rebasing: $0)) } }
        var report = Report(requestId: word("RequestId") ?? "")
        report.durationMs = number("Duration")
        report.billedDurationMs = number("Billed Duration")
        report.memorySizeMB = number("Memory Size")
        report.maxMemoryUsedMB = number("Max Memory Used")
        report.initDurationMs = number("Init Duration")
        report.restoreDurationMs = number("Restore Duration")
        report.billedRestoreDurationMs = number("Billed Restore Duration")
        report.status = word("Status")
        report.traceId = word("XRAY TraceId")
        return report
    }

    /// The bytes up to the first whitespace, as text.
    private static func token(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix { !isSpace($0) }, as: UTF8.self)
    }

    /// Space, tab, or a line break (a REPORT's X-Ray fields may follow on a second line).
    private static func isSpace(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
    }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private static func parseJSON(_ message: UnsafeRawBufferPointer) -> LambdaPlatformLine? {
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
