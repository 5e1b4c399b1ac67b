import ArgumentParser
import Foundation
import SkylensCore
import SkylensStorage
import SkylensWire

/// The metric paths in process, one core, phase by phase: PutMetricData decoding and storing, and the extraction of
/// metrics from log events by a group's metric filters. Tells where the HTTP benchmarks' time goes.
struct MetricCPUBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics-cpu",
                                                    abstract: "In-process costs of the metric paths, per core.")

    @Option(help: "Directory holding corpus.log and corpus.ts (from gen_corpus.py).") var corpus: String
    @Option(help: "Corpus events for the extraction measurement.") var events = 300_000

    func run() async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let bodies = MetricBench.putMetricDataBodies(requests: 100, now: Double(now) / 1000)
        let datumsTotal = Double(bodies.count * 1_000)

        // The AWS JSON path the collector takes (bytes straight to datums), then the document path of the other
        // protocols, for comparison.
        var t = ContinuousClock.now
        var requests: [[MetricDatum]] = []
        for body in bodies {
            requests.append(try body.withUnsafeBytes { b in
                try Result { () throws(CloudWatchError) in try CloudWatchRequests.putMetricData(json: b, now: now) }.get()
            })
        }
        report("JSON body → MetricDatum (the AWS JSON path)", datumsTotal, t)

        t = ContinuousClock.now
        var documents: [WireValue] = []
        for body in bodies { documents.append(try WireValue.parseJSON(body)) }
        report("JSON body → WireValue (document path)", datumsTotal, t)
        t = ContinuousClock.now
        for document in documents { _ = try CloudWatchRequests.putMetricData(document, now: now) }
        report("WireValue → MetricDatum (document path)", datumsTotal, t)

        let directory = NSTemporaryDirectory() + "skylens-metric-cpu-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = SQLiteMetricStore(database: try SkylensDatabase(directory: directory))
        t = ContinuousClock.now
        for k in stride(from: 0, to: requests.count, by: 8) {
            try await store.put(requests[k..<min(k + 8, requests.count)].flatMap { $0 })
        }
        try await store.flush()
        report("store.put, 8 requests per commit, then a flush", datumsTotal, t)

        // One GetMetricData page: 10 series × 7 days of 1-minute buckets read back (100,800 datapoints), then the
        // answer built and written as JSON.
        let minutes = 7 * 1_440
        let weekStart = MetricPeriod.start(of: now, period: 60) - Int64(minutes) * 60_000
        for s in 0..<10 {
            try await store.put((0..<minutes).map { m in
                MetricDatum(namespace: "Read", name: "Latency", dimensions: ["Series": "s\(s)"], timestamp: weekStart + Int64(m) * 60_000,
                            values: [Double((m * 7 + s) % 113)])
            })
        }
        try await store.flush()
        t = ContinuousClock.now
        var read: [MetricPoints] = []
        for s in 0..<10 {
            read.append(try await store.aggregates(MetricQuery(series: MetricSeries(namespace: "Read", name: "Latency", dimensions: ["Series": "s\(s)"]),
                                                               start: weekStart, end: weekStart + Int64(minutes) * 60_000,
                                                               periodSeconds: 60, needsPercentiles: false)))
        }
        report("read 10 series × 7 days of minutes (no sketches)", Double(read.reduce(0) { $0 + $1.points.count }), t)
        t = ContinuousClock.now
        let answer = WireValue.map([("MetricDataResults", .array(read.map { data in
            .map([("Id", .string("m")), ("Label", .string("Latency")),
                  ("Timestamps", .array(data.points.map { .timestamp(Double($0.start) / 1000) })),
                  ("Values", .array(data.points.map { .double($0.aggregate.value(.average) ?? 0) })),
                  ("StatusCode", .string("Complete"))])
        }))])
        report("build the answer", 100_800, t)
        t = ContinuousClock.now
        let json = answer.jsonBytes
        report("write it as JSON (\(json.count) bytes)", 100_800, t)

        let (timestamps, lines) = try Corpus.load(corpus)
        let count = min(events, lines.count)
        var batches: [LogBatch] = []
        for start in stride(from: 0, to: count, by: 1_000) {
            var batch = LogBatch()
            for i in start..<min(start + 1_000, count) { batch.append(timestamp: timestamps[i], message: lines[i]) }
            batches.append(batch)
        }
        let filters = try MetricBench.filterPatterns.enumerated().map { k, p in
            try MetricFilter(name: "f\(k)", pattern: p, transformation: .init(metricName: "M\(k)", metricNamespace: "BenchFilters",
                                                                                 metricValue: "1"))
        }
        for (label, set) in [("no filters (EMF + platform lines)", [MetricFilter]()), ("10 metric filters", filters)] {
            var best = Double.infinity
            var produced = 0
            for _ in 0..<3 {
                t = ContinuousClock.now
                produced = 0
                for batch in batches {
                    produced += LogMetricExtractor.extract(group: "/aws/lambda/bench", filters: set, events: batch).datums.count
                }
                best = min(best, LoadGenerator.seconds(ContinuousClock.now - t))
            }
            print(String(format: "%-58@ %10.0f events/s  (%.2f µs each, best of 3)",
                         "extract, \(label): \(produced) datums" as NSString, Double(count) / best, best / Double(count) * 1e6))
        }
        // Each filter alone on the batch path (prefilter, tally), less the same pass without filters, outside
        // /aws/lambda so that no platform line is parsed.
        func bestOf3(_ set: [MetricFilter]) -> (seconds: Double, datums: Int) {
            var best = Double.infinity
            var produced = 0
            for _ in 0..<3 {
                let start = ContinuousClock.now
                produced = 0
                for batch in batches { produced += LogMetricExtractor.extract(group: "/bench/one", filters: set, events: batch).datums.count }
                best = min(best, LoadGenerator.seconds(ContinuousClock.now - start))
            }
            return (best, produced)
        }
        let base = bestOf3([]).seconds
        for filter in filters {
            let (seconds, datums) = bestOf3([filter])
            print(String(format: "  filter %-48@ +%.3f µs/event (%d datums)", filter.pattern.source as NSString,
                         (seconds - base) / Double(count) * 1e6, datums))
        }
    }

    func report(_ what: String, _ n: Double, _ start: ContinuousClock.Instant, unit: String = "datums") {
        let s = LoadGenerator.seconds(ContinuousClock.now - start)
        print(String(format: "%-58@ %10.0f %@/s  (%.2f µs each)", what as NSString, n / s, unit, s / n * 1e6))
    }
}
