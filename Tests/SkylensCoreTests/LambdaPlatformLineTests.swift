import Foundation
import Testing
@testable import SkylensCore

/// The `b-lambda-logs` parse vectors of `Conformance/formats.json`, the JSON `platform.report` example, and lines
/// in the shape of the benchmark corpus (tabs, trailing tab, X-Ray fields in the same event).
struct LambdaPlatformLineTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        var id: String
        var lines: [String]
        var expected: [String: Double?]
        var requestId: String
        var testDescription: String { id }
    }

    static let vectors: [Vector] = {
        guard let url = Bundle.module.url(forResource: "formats", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let all = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return all.compactMap { c in
            guard c["section"] as? String == "b-lambda-logs", c["kind"] as? String == "parse-vector",
                  let lines = c["lines"] as? [String],
                  let report = (c["expect_parsed"] as? [String: Any])?["report"] as? [String: Any] else { return nil }
            var expected: [String: Double?] = [:]
            for (k, v) in report where k != "requestId" { expected[k] = (v as? NSNumber)?.doubleValue }
            return Vector(id: c["id"] as? String ?? "", lines: lines, expected: expected, requestId: report["requestId"] as? String ?? "")
        }
    }()

    @Test func vectorsAreLoaded() { #expect(Self.vectors.count >= 2) }

    @Test(arguments: vectors)
    func reportVector(_ v: Vector) throws {
        let reports = v.lines.compactMap { line -> LambdaPlatformLine.Report? in
            if case .report(let r) = LambdaPlatformLine.parse(line) { return r }
            return nil
        }
        let r = try #require(reports.first)
        #expect(r.requestId == v.requestId)
        let got: [String: Double?] = [
            "durationMs": r.durationMs, "billedDurationMs": r.billedDurationMs, "memorySizeMB": r.memorySizeMB,
            "maxMemoryUsedMB": r.maxMemoryUsedMB, "initDurationMs": r.initDurationMs, "restoreDurationMs": r.restoreDurationMs,
            "billedRestoreDurationMs": r.billedRestoreDurationMs,
        ]
        for (key, value) in v.expected { #expect(got[key] ?? nil == value, "\(v.id) \(key)") }
    }

    @Test func corpusShapedReportWithTraceAndColdStart() throws {
        let line = "REPORT RequestId: 3f0e5e2a-1111-4222-8333-944455556666\tDuration: 23.61 ms\tBilled Duration: 24 ms\tMemory Size: 256 MB\tMax Memory Used: 88 MB\tInit Duration: 412.03 ms\t\nXRAY TraceId: 1-66318000-0123456789abcdef01234567\tSegmentId: 0123456789abcdef\tSampled: true"
        guard case .report(let r) = LambdaPlatformLine.parse(line) else { Issue.record("not a report"); return }
        #expect(r.durationMs == 23.61)
        #expect(r.billedDurationMs == 24)
        #expect(r.initDurationMs == 412.03)
        #expect(r.isColdStart)
        #expect(r.traceId == "1-66318000-0123456789abcdef01234567")
        let warm = "REPORT RequestId: 3f0e5e2a-1111-4222-8333-944455556666\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t"
        guard case .report(let w) = LambdaPlatformLine.parse(warm) else { Issue.record("not a report"); return }
        #expect(!w.isColdStart)
        #expect(w.maxMemoryUsedMB == 40)
    }

    @Test func jsonPlatformReport() throws {
        let record = #"{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{"metrics":{"billedDurationMs":694,"durationMs":693.92,"initDurationMs":397.68,"maxMemoryUsedMB":84,"memorySizeMB":128},"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","status":"error"}}"#
        guard case .report(let r) = LambdaPlatformLine.parse(record) else { Issue.record("not a report"); return }
        #expect(r.requestId == "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa")
        #expect(r.durationMs == 693.92)
        #expect(r.isError)
        let datums = LambdaPlatformMetrics.datums(for: .report(r), function: "orders", timestamp: 1_000)
        let byName = Dictionary(datums.map { ("\($0.namespace)/\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["AWS/Lambda/Invocations"]?.values == [1])
        #expect(byName["AWS/Lambda/Errors"]?.values == [1])
        #expect(byName["AWS/Lambda/Duration"]?.values == [693.92])
        #expect(byName["LambdaInsights/init_duration"]?.values == [397.68])
        #expect(byName["LambdaInsights/memory_utilization"]?.values == [84.0 / 128 * 100])
        #expect(datums.allSatisfy { $0.dimensions == ["FunctionName": "orders"] })
    }

    @Test func startEndTimeoutAndOrdinaryLines() {
        #expect(LambdaPlatformLine.parse("START RequestId: abc Version: $LATEST") == .start(requestId: "abc", version: "$LATEST"))
        #expect(LambdaPlatformLine.parse("END RequestId: abc") == .end(requestId: "abc"))
        #expect(LambdaPlatformLine.parse("2024-05-01T00:00:03.000Z 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa Task timed out after 3.00 seconds")
                == .timeout(requestId: "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", afterSeconds: 3))
        let timeout = LambdaPlatformLine.timeout(requestId: nil, afterSeconds: 3)
        #expect(LambdaPlatformMetrics.datums(for: timeout, function: "f", timestamp: 0).map(\.name) == ["Errors"])
        var timedOutReport = LambdaPlatformLine.Report(requestId: "r")
        timedOutReport.status = "timeout"
        let fromReport = LambdaPlatformMetrics.datums(for: .report(timedOutReport), function: "f", timestamp: 0)
        #expect(fromReport.first { $0.name == "Errors" }?.values == [0], "a timeout is counted from its own line only")
        #expect(LambdaPlatformLine.parse("INFO processing order") == nil)
        #expect(LambdaPlatformLine.parse(#"{"level":"INFO"}"#) == nil)
        #expect(LambdaPlatformMetrics.functionName(fromLogGroup: "/aws/lambda/orders-api") == "orders-api")
        #expect(LambdaPlatformMetrics.functionName(fromLogGroup: "/ecs/orders") == nil)
    }
}
