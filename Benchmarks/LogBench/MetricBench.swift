import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SkylensClient
import SkylensCore
import SkylensWire

/// Metrics throughput against a running collector: PutMetricData datapoints/s, and the cost of metric filters on
/// log ingest (the same corpus slice into a group without filters and into one with ten).
struct MetricBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "PutMetricData and metric-filter ingest benchmarks.")

    @Option(help: "Collector URL.") var endpoint = "http://127.0.0.1:4566"
    @Option(help: "Directory holding corpus.log and corpus.ts (from gen_corpus.py).") var corpus: String
    @Option(help: "Corpus events for the metric-filter comparison.") var events = 300_000
    @Option(help: "Concurrent requests in flight.") var concurrency = 8
    @Option(help: "The collector's process id: PutMetricData is then also reported per CPU-second the collector used.")
    var serverPid: Int32?

    func run() async throws {
        let client = CollectorClient(endpoint: endpoint)
        // PutMetricData: 500 requests of 1,000 datums over 100 series.
        let now = Date().timeIntervalSince1970
        let bodies = Self.putMetricDataBodies(requests: 500, now: now)
        let cpu0 = serverPid.flatMap(Self.cpuSeconds)
        let t0 = ContinuousClock.now
        try await send(bodies, target: "GraniteServiceVersion20100801.PutMetricData", contentType: "application/x-amz-json-1.0")
        let putSeconds = LoadGenerator.seconds(ContinuousClock.now - t0)
        print(String(format: "PutMetricData: %d datapoints in %.2f s = %.0f datapoints/s (2 cores, %d in flight)",
                     500_000, putSeconds, 500_000 / putSeconds, concurrency))
        if let cpu0, let cpu1 = serverPid.flatMap(Self.cpuSeconds) {
            print(String(format: "PutMetricData: the collector used %.2f CPU-seconds = %.0f datapoints per CPU-second (per core)",
                         cpu1 - cpu0, 500_000 / (cpu1 - cpu0)))
        }

        // Ingest with and without ten metric filters on the group.
        let (timestamps, lines) = try Corpus.load(corpus)
        let count = min(events, lines.count)
        let rebased = Corpus.rebased(Array(timestamps[..<count]))
        var rates: [Double] = []
        for withFilters in [false, true] {
            let group = "/bench/filters-\(withFilters)-\(Int(now))"
            try await client.ensureStream(group: group, stream: "s")
            if withFilters {
                for (k, p) in Self.filterPatterns.enumerated() {
                    var w = JSONWriter()
                    w.beginObject()
                    w.field("logGroupName", group)
                    w.field("filterName", "f\(k)")
                    w.field("filterPattern", p)
                    w.key("metricTransformations")
                    w.beginArray()
                    w.beginObject()
                    w.field("metricName", "M\(k)")
                    w.field("metricNamespace", "BenchFilters")
                    w.field("metricValue", "1")
                    w.endObject()
                    w.endArray()
                    w.endObject()
                    _ = try await client.logs("PutMetricFilter", w.bytes)
                }
            }
            let bodies = Corpus.putLogEventsBodies(group: group, streams: ["s"], timestamps: rebased, lines: lines, count: count,
                                                   batchSize: 1_000)
            let start = ContinuousClock.now
            try await send(bodies, target: "Logs_20140328.PutLogEvents", contentType: "application/x-amz-json-1.1")
            let s = LoadGenerator.seconds(ContinuousClock.now - start)
            rates.append(Double(count) / s)
            print(String(format: "ingest %@ metric filters: %d events in %.2f s = %.0f events/s",
                         withFilters ? "with 10" : "without", count, s, Double(count) / s))
        }
        print(String(format: "metric-filter cost: %.1f%% of plain ingest throughput", (1 - rates[1] / rates[0]) * 100))
    }

    /// The ten metric filters of the ingest comparison: terms, an OR, JSON, space-delimited and a regex.
    static let filterPatterns = [
        "ERROR", "?Timeout ?timed", "{ $.level = \"ERROR\" }", "{ $.duration_ms > 100 }", "REPORT", "\"Init Duration\"",
        "{ $.cold_start IS TRUE }", "[ip, a, b, ts, req, status = 5*, bytes, ...]", "%Payment[a-z]+%", "WARN",
    ]

    /// PutMetricData bodies (JSON 1.0) of 1,000 datums each over 100 series, timestamps spread over ten minutes.
    static func putMetricDataBodies(requests: Int, now: Double) -> [[UInt8]] {
        (0..<requests).map { r in
            var w = JSONWriter(capacity: 120_000)
            w.beginObject()
            w.field("Namespace", "Bench")
            w.key("MetricData")
            w.beginArray()
            for i in 0..<1_000 {
                w.beginObject()
                w.field("MetricName", "Latency")
                w.key("Dimensions")
                w.beginArray()
                w.beginObject(); w.field("Name", "Series"); w.field("Value", "s\((r * 7 + i) % 100)"); w.endObject()
                w.endArray()
                w.key("Timestamp"); w.double(now - Double(i % 600))
                w.key("Value"); w.double(Double(i % 97))
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return w.bytes
        }
    }

    /// User + system CPU time of a process, from /proc (Linux).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func send(_ bodies: [[UInt8]], target: String, contentType: String) async throws {
        try await LoadGenerator.send(bodies, to: endpoint, target: target, contentType: contentType, concurrency: concurrency)
    }

}
