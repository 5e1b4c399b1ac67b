import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SkylensClient
import SkylensCore
import SkylensWire

/// Loads the generated Lambda corpus into a running collector through PutLogEvents (batches of 1,000 events,
/// several connections), then measures storage per event and the FilterLogEvents scan rate.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skylens-bench", abstract: "Skylens benchmarks (see Benchmarks/README.md).",
        subcommands: [LogBench.self, PatternBench.self, MetricBench.self, MetricCPUBench.self, AlarmBench.self, TraceBench.self, TraceCPUBench.self])
}

struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs",
                                                    abstract: "Ingest and scan benchmark for a running collector.")

    @Option(help: "Collector URL.") var endpoint = "http://127.0.0.1:4566"
    @Option(help: "Directory holding corpus.log and corpus.ts (from gen_corpus.py).") var corpus: String
    @Option(help: "The collector's data directory, to measure bytes on disk.") var dataDir: String?
    @Option(help: "Events per PutLogEvents batch.") var batchSize = 1_000
    @Option(help: "Concurrent requests in flight.") var concurrency = 8
    @Option(help: "Log streams to spread the corpus over.") var streams = 6
    @Option(help: "A term for the scan benchmark (absent from the corpus, so every event is scanned).") var scanTerm = "NO_SUCH_TERM_4f2a"

    func run() async throws {
        let group = "/bench/lambda-\(Int(Date().timeIntervalSince1970))"
        let (timestamps, lines) = try loadCorpus()
        print("corpus: \(lines.count) events, \(lines.reduce(0) { $0 + $1.count }) bytes of messages")

        let bodies = makeBodies(group: group, timestamps: Corpus.rebased(timestamps), lines: lines)
        let client = CollectorClient(endpoint: endpoint)
        for s in 0..<streams { try await client.ensureStream(group: group, stream: "stream-\(s)") }

        let start = ContinuousClock.now
        try await send(bodies)
        let seconds = LoadGenerator.seconds(ContinuousClock.now - start)
        print(String(format: "ingest: %d events in %.2f s = %.0f events/s (%d requests of %d, %d in flight)",
                     lines.count, seconds, Double(lines.count) / seconds, bodies.count, batchSize, concurrency))

        let groups = try await client.logs("DescribeLogGroups", { w in w.field("logGroupNamePrefix", group) },
                                           as: LogsModels.DescribeLogGroups.self)
        let stored = groups.logGroups.first?.storedBytes ?? 0
        print(String(format: "storage: storedBytes %d = %.1f bytes/event", stored, Double(stored) / Double(lines.count)))
        if let dataDir {
            let files = ["skylens.sqlite", "skylens.sqlite-wal"].map { (dataDir as NSString).appendingPathComponent($0) }
            let onDisk = files.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.reduce(0, +)
            print(String(format: "disk: %d bytes in the database files = %.1f bytes/event (includes the WAL and the hot tier)",
                         onDisk, Double(onDisk) / Double(lines.count)))
        }

        // A term absent from the corpus and a JSON pattern no event satisfies both read every stored event.
        for pattern in ["\"\(scanTerm)\"", "\"Task timed out\"", "{ $.level = \"CRITICAL\" }", "{ $.duration_ms > 5000 }"] {
            let scanStart = ContinuousClock.now
            var matched = 0
            var token: String?
            repeat {
                let page = try await client.logs("FilterLogEvents", { w in
                    w.field("logGroupName", group)
                    w.field("filterPattern", pattern)
                    w.fieldIfPresent("nextToken", token)
                }, as: LogsModels.FilterLogEvents.self)
                matched += page.events.count
                token = page.nextToken
            } while token != nil
            let s = LoadGenerator.seconds(ContinuousClock.now - scanStart)
            print(String(format: "scan: FilterLogEvents %@ over %d stored events: %d matches in %.3f s = %.0f events/s",
                         pattern, lines.count, matched, s, Double(lines.count) / s))
        }
    }

    func loadCorpus() throws -> ([Int64], [[UInt8]]) { try Corpus.load(corpus) }

    func makeBodies(group: String, timestamps: [Int64], lines: [[UInt8]]) -> [[UInt8]] {
        Corpus.putLogEventsBodies(group: group, streams: (0..<streams).map { "stream-\($0)" }, timestamps: timestamps,
                                  lines: lines, count: lines.count, batchSize: batchSize)
    }

    func send(_ bodies: [[UInt8]]) async throws {
        try await LoadGenerator.send(bodies, to: endpoint, target: "Logs_20140328.PutLogEvents",
                                     contentType: "application/x-amz-json-1.1", concurrency: concurrency)
    }
}

/// Sends prepared request bodies with a fixed number of requests in flight.
enum LoadGenerator {
    static func send(_ bodies: [[UInt8]], to endpoint: String, target: String, contentType: String, concurrency: Int) async throws {
        let next = Counter()
        let url = endpoint + "/"
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<concurrency {
                tasks.addTask {
                    while let i = next.take(below: bodies.count) {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: contentType)
                        request.headers.add(name: "X-Amz-Target", value: target)
                        request.body = .bytes(bodies[i])
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else {
                            throw ValidationError("\(target) answered \(response.status.code): \(String(buffer: body))")
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// The corpus written by `gen_corpus.py`: one event a line in `corpus.log`, its timestamp in `corpus.ts`.
enum Corpus {
    /// The timestamps moved so that the corpus ends a minute ago (PutLogEvents rejects events over 14 days old).
    static func rebased(_ timestamps: [Int64]) -> [Int64] {
        let shift = Int64(Date().timeIntervalSince1970 * 1000) - 60_000 - (timestamps.max() ?? 0)
        return timestamps.map { $0 + shift }
    }

    /// PutLogEvents bodies for the first `count` events: batches of consecutive events, round-robin over `streams`,
    /// each batch sorted by time.
    static func putLogEventsBodies(group: String, streams: [String], timestamps: [Int64], lines: [[UInt8]], count: Int,
                                   batchSize: Int) -> [[UInt8]] {
        stride(from: 0, to: count, by: batchSize).enumerated().map { n, first in
            let range = first..<min(first + batchSize, count)
            let order = range.sorted { timestamps[$0] < timestamps[$1] }
            var w = JSONWriter(capacity: 256_000)
            w.beginObject()
            w.field("logGroupName", group)
            w.field("logStreamName", streams[n % streams.count])
            w.key("logEvents")
            w.beginArray()
            for i in order {
                w.beginObject()
                w.field("timestamp", timestamps[i])
                w.field("message", String(decoding: lines[i], as: UTF8.self))
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return w.bytes
        }
    }

    static func load(_ corpus: String) throws -> ([Int64], [[UInt8]]) {
        let dir = URL(fileURLWithPath: corpus)
        let log = try Data(contentsOf: dir.appendingPathComponent("corpus.log"))
        let ts = try String(contentsOf: dir.appendingPathComponent("corpus.ts"), encoding: .utf8)
        // One event a line, kept verbatim (gen_corpus.py writes a REPORT line's embedded newline as the two
        // characters \n, and JSON messages hold \n escapes of their own: both stay as they are).
        let bytes = [UInt8](log)
        var lines: [[UInt8]] = []
        var lineStart = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lines.append(Array(bytes[lineStart..<i]))
            lineStart = i + 1
        }
        let timestamps = ts.split(separator: "\n").compactMap { Int64($0) }
        guard timestamps.count == lines.count else { throw ValidationError("corpus.ts and corpus.log differ in length") }
        return (timestamps, lines)
    }


}
