import ArgumentParser
import Foundation
import SkylensCore
import SkylensStorage

/// Where an X-Ray segment's cost goes, in process on one core: parsing and validating documents, assembling traces
/// and computing their facts, encoding facts, and the trace store's commits (which do all of that plus SQLite).
struct TraceCPUBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "traces-cpu", abstract: "X-Ray per-segment CPU costs, in process.")

    @Option(help: "Segment documents (five per trace).") var segments = 100_000
    @Option(help: "Documents per store commit.") var batch = 2_000
    @Flag(help: "Only the store commits (to profile them alone).") var storeOnly = false
    @Option(help: "Index entries gathered before a commit writes them (a large value leaves them all to one flush at the end, timed alone).")
    var postingLimit = 100_000

    func run() async throws {
        print(MachineReference.line)
        let now = Int(Date().timeIntervalSince1970)
        let datagrams = (0..<(segments / 5)).flatMap { TraceBench.datagrams(trace: $0, now: now, tracesPerSecond: 10_000) }
        var documents: [SegmentDocument] = []
        var traceIDs = TraceIDReuse()
        try rate("parse + validate a datagram's document", datagrams.count) {
            for d in datagrams {
                try d.withUnsafeBytes { buffer in
                    guard case .success(let body) = DaemonDatagram.document(buffer) else { throw ValidationError("bad datagram") }
                    documents.append(SegmentDocument(segment: try Segment.parse(body, nowSeconds: Int64(now), reusing: &traceIDs),
                                                     text: ArraySlice(body)))
                }
            }
        }
        if !storeOnly { try phases(documents) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-trace-cpu-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SQLiteTraceStore(database: try SkylensDatabase(directory: dir), postingLimit: postingLimit)
        let pid = ProcessInfo.processInfo.processIdentifier
        let cpu0 = MetricBench.cpuSeconds(pid)
        let t0 = ContinuousClock.now
        for start in stride(from: 0, to: documents.count, by: batch) {
            try await store.append(Array(documents[start..<min(start + batch, documents.count)]), now: Int64(now) * 1000)
        }
        // The index entries still gathered are part of the cost.
        let t1 = ContinuousClock.now
        try await store.flushIndex()
        print(String(format: "writing the index entries left at the end: %.0f ms", LoadGenerator.seconds(ContinuousClock.now - t1) * 1000))
        let s = LoadGenerator.seconds(ContinuousClock.now - t0)
        print(String(format: "store commits of %d documents: %.0f segments per second (%.1f µs each)", batch,
                     Double(documents.count) / s, s / Double(documents.count) * 1e6))
        if let cpu0, let cpu1 = MetricBench.cpuSeconds(pid) {
            print(String(format: "store commits of %d documents: %.1f µs of CPU each (all threads)", batch,
                         (cpu1 - cpu0) / Double(documents.count) * 1e6))
        }
    }

    func rate(_ what: String, _ count: Int, _ body: () throws -> Void) rethrows {
        let t0 = ContinuousClock.now
        try body()
        let s = LoadGenerator.seconds(ContinuousClock.now - t0)
        print(String(format: "%@: %.0f per second (%.1f µs each)", what, Double(count) / s, s / Double(count) * 1e6))
    }

    func phases(_ documents: [SegmentDocument]) throws {
        let traces = stride(from: 0, to: documents.count, by: 5).map { Array(documents[$0..<min($0 + 5, documents.count)]) }
        var facts: [TraceFacts] = []
        rate("assemble a trace (5 documents)", traces.count) {
            for t in traces { _ = TraceAssembler.assemble(id: t[0].segment.traceID, documents: t.map(\.segment)) }
        }
        rate("assemble + facts of a trace", traces.count) {
            for t in traces { facts.append(TraceFacts(TraceAssembler.assemble(id: t[0].segment.traceID, documents: t.map(\.segment)))) }
        }
        var encoded: [[UInt8]] = []
        rate("encode a trace's facts", facts.count) { for f in facts { encoded.append(TraceFactsCodec.encode(f)) } }
        try rate("decode a trace's facts", facts.count) {
            for e in encoded { _ = try e.withUnsafeBytes { try TraceFactsCodec.decode($0) } }
        }
    }
}
