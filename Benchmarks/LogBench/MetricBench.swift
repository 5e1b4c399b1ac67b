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
    @Option(help: "Rounds of the metric-filter comparison (each ingests without, then with the filters).") var rounds = 5
    @Option(help: "Run only one part: put (PutMetricData), get (GetMetricData) or filters (the metric-filter comparison).")
    var only: String?
    @Option(help: "Concurrent requests in flight.") var concurrency = 8
    @Option(help: "The collector's process id: PutMetricData is then also reported per CPU-second the collector used.")
    var serverPid: Int32?

    func run() async throws {
        let client = CollectorClient(endpoint: endpoint)
        let now = Date().timeIntervalSince1970
        if only == nil || only == "put" { try await putMetricDataBenchmark(client: client, now: now) }
        if only == nil || only == "get" { try await getMetricDataBenchmark(client: client, now: now) }
        guard only == nil || only == "filters" else { return }
        // Ingest with and without ten metric filters on the group.
        let (timestamps, lines) = try Corpus.load(corpus)
        let count = min(events, lines.count)
        let rebased = Corpus.rebased(Array(timestamps[..<count]))
        // Rounds alternate the two, each into new groups, so that both see the same machine and database state.
        var rates: [[Double]] = [[], []]
        var cpuPerEvent: [[Double]] = [[], []]
        for round in 1...rounds {
            for withFilters in [false, true] {
                let group = "/bench/filters-\(withFilters)-\(Int(now))-\(round)"
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
                let cpu0 = serverPid.flatMap(Self.cpuSeconds)
                let start = ContinuousClock.now
                try await send(bodies, target: "Logs_20140328.PutLogEvents", contentType: "application/x-amz-json-1.1")
                let s = LoadGenerator.seconds(ContinuousClock.now - start)
                let k = withFilters ? 1 : 0
                rates[k].append(Double(count) / s)
                var cpuNote = ""
                if let cpu0, let cpu1 = serverPid.flatMap(Self.cpuSeconds) {
                    cpuPerEvent[k].append((cpu1 - cpu0) / Double(count) * 1e6)
                    cpuNote = String(format: ", collector %.2f µs CPU/event", (cpu1 - cpu0) / Double(count) * 1e6)
                }
                print(String(format: "round %d, ingest %@ metric filters: %d events in %.2f s = %.0f events/s%@",
                             round, withFilters ? "with 10" : "without", count, s, Double(count) / s, cpuNote))
            }
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        print(String(format: "metric-filter cost: %.1f%% of plain ingest throughput (medians over %d rounds: %.0f vs %.0f events/s)",
                     (1 - median(rates[1]) / median(rates[0])) * 100, rounds, median(rates[0]), median(rates[1])))
        if !cpuPerEvent[0].isEmpty {
            print(String(format: "metric-filter cost in collector CPU: %.2f vs %.2f µs/event (+%.1f%%, medians)",
                         median(cpuPerEvent[0]), median(cpuPerEvent[1]), (median(cpuPerEvent[1]) / median(cpuPerEvent[0]) - 1) * 100))
        }
    }

    /// PutMetricData: 500 requests of 1,000 datums over 100 series.
    func putMetricDataBenchmark(client: CollectorClient, now: Double) async throws {
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

    /// GetMetricData over 100 series × 7 days at a 1-minute period (1,008,000 datapoints): the first page (CloudWatch's
    /// default MaxDatapoints, 100,800) and every page through NextToken.
    func getMetricDataBenchmark(client: CollectorClient, now: Double) async throws {
        let series = 100, minutes = 7 * 1_440
        let end = (now / 60).rounded(.down) * 60
        let start = end - Double(minutes * 60)
        var bodies: [[UInt8]] = []
        for chunk in stride(from: 0, to: minutes, by: 10) {
            var w = JSONWriter(capacity: 120_000)
            w.beginObject()
            w.field("Namespace", "BenchRead")
            w.key("MetricData")
            w.beginArray()
            for m in chunk..<min(chunk + 10, minutes) {
                for s in 0..<series {
                    w.beginObject()
                    w.field("MetricName", "Latency")
                    w.key("Dimensions")
                    w.beginArray()
                    w.beginObject(); w.field("Name", "Series"); w.field("Value", "s\(s)"); w.endObject()
                    w.endArray()
                    w.key("Timestamp"); w.double(start + Double(m * 60) + 1)
                    w.key("Value"); w.double(Double((m * 7 + s) % 113))
                    w.endObject()
                }
            }
            w.endArray()
            w.endObject()
            bodies.append(w.bytes)
        }
        let loadStart = ContinuousClock.now
        try await send(bodies, target: "GraniteServiceVersion20100801.PutMetricData", contentType: "application/x-amz-json-1.0")
        print(String(format: "GetMetricData set-up: %d datapoints (100 series × 7 days × 1 minute) put in %.2f s",
                     series * minutes, LoadGenerator.seconds(ContinuousClock.now - loadStart)))
        /// One GetMetricData call, timed from sending the request to the last byte of the answer (the client's
        /// parsing of the answer is not counted).
        func page(_ token: String?) async throws -> (points: Int, token: String?, seconds: Double) {
            var w = JSONWriter()
            w.beginObject()
            w.key("MetricDataQueries")
            w.beginArray()
            for s in 0..<series {
                w.beginObject()
                w.field("Id", "m\(s)")
                w.key("MetricStat")
                w.beginObject()
                w.key("Metric")
                w.beginObject()
                w.field("Namespace", "BenchRead")
                w.field("MetricName", "Latency")
                w.key("Dimensions")
                w.beginArray()
                w.beginObject(); w.field("Name", "Series"); w.field("Value", "s\(s)"); w.endObject()
                w.endArray()
                w.endObject()
                w.field("Period", 60)
                w.field("Stat", "Average")
                w.endObject()
                w.endObject()
            }
            w.endArray()
            w.key("StartTime"); w.double(start)
            w.key("EndTime"); w.double(end)
            if let token { w.field("NextToken", token) }
            w.endObject()
            var request = HTTPClientRequest(url: endpoint + "/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-amz-json-1.0")
            request.headers.add(name: "X-Amz-Target", value: "GraniteServiceVersion20100801.GetMetricData")
            request.body = .bytes(w.bytes)
            let t = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            let body = try await response.body.collect(upTo: 256 << 20)
            let seconds = LoadGenerator.seconds(ContinuousClock.now - t)
            guard response.status == .ok else { throw ValidationError("GetMetricData answered \(response.status.code)") }
            let answer = try JSONValue.parse(String(buffer: body))
            let points = answer["MetricDataResults"]?.array?.reduce(0) { $0 + ($1["Values"]?.array?.count ?? 0) } ?? 0
            return (points, answer["NextToken"]?.string, seconds)
        }
        _ = try await page(nil)  // the first read also flushes what the puts left open
        var times: [Double] = []
        var first = 0
        for _ in 0..<5 {
            let p = try await page(nil)
            first = p.points
            times.append(p.seconds)
        }
        times.sort()
        print(String(format: "GetMetricData, first page: %d datapoints in %.1f ms (median of 5; best %.1f ms)",
                     first, times[2] * 1000, times[0] * 1000))
        var total = 0, pages = 0
        var all = 0.0
        var token: String?
        repeat {
            let p = try await page(token)
            total += p.points
            pages += 1
            all += p.seconds
            token = p.token
        } while token != nil
        print(String(format: "GetMetricData, all pages: %d datapoints in %d pages, %.1f ms (%.1f ms a page)",
                     total, pages, all * 1000, all * 1000 / Double(pages)))
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
