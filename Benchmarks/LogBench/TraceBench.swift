import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SkylensWire
#if canImport(Glibc)
import Glibc
#endif

/// X-Ray throughput against a running collector: segments sent as UDP datagrams to the daemon port (five documents
/// per trace: a root segment with annotations and calls, two downstream segments and two independently sent
/// subsegments; a trace's five back to back, or with `--as-they-end` each when its segment ends, as services send
/// them) until all are stored, then GetTraceSummaries with an annotation filter over everything.
struct TraceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "traces", abstract: "X-Ray daemon ingest and trace-summary benchmarks.")

    @Option(help: "Collector URL.") var endpoint = "http://127.0.0.1:4566"
    @Option(name: .customLong("xray-port"), help: "The collector's X-Ray daemon port.") var xrayPort = 2000
    @Option(help: "Segment documents to send (five per trace).") var segments = 1_000_000
    @Option(help: "Segments per second the sender paces itself to (the goal's rate by default).") var rate = 50_000
    @Option(help: "The collector's process id: ingest is then also reported per CPU-second the collector used.")
    var serverPid: Int32?
    @Flag(name: .customLong("as-they-end"),
          help: "Send each document when its (sub)segment ends, as the SDKs do: a trace's documents then arrive over its 120 ms, among other traces' (by default a trace's five are sent back to back).")
    var asTheyEnd = false

    static let customers = 1000

    func run() async throws {
        let traces = segments / 5
        let now = Int(Date().timeIntervalSince1970)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(xrayPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        print(MachineReference.line)
        let baseline = try await health()
        let cpu0 = serverPid.flatMap(MetricBench.cpuSeconds)
        let ticks0 = MachineReference.cpuTicks()
        let t0 = ContinuousClock.now
        var sent = 0, bytes = 0
        let tracesPerSecond = Double(rate) / 5
        // Each trace's datagrams are made when its first is sent, and dropped when its last is.
        var made: [Int: (datagrams: [[UInt8]], left: Int)] = [:]
        for (i, k) in Self.schedule(traces: traces, tracesPerSecond: tracesPerSecond, asTheyEnd: asTheyEnd) {
            let trace = made[i] ?? (Self.datagrams(trace: i, now: now, tracesPerSecond: tracesPerSecond), 5)
            let datagram = trace.datagrams[k]
            made[i] = trace.left > 1 ? (trace.datagrams, trace.left - 1) : nil
            let n = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    datagram.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            guard n == datagram.count else { throw ValidationError("sendto failed: errno \(errno)") }
            sent += 1
            bytes += datagram.count
            // Paced: never ahead of `rate` segments a second since the start.
            if sent % 500 == 0 {
                let due = t0 + .milliseconds(Int64(Double(sent) / Double(rate) * 1000))
                if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
            }
        }
        let sendSeconds = LoadGenerator.seconds(ContinuousClock.now - t0)
        // Done when every datagram that arrived is stored or refused, and no more arrive.
        var last = try await health()
        var stableSince = ContinuousClock.now
        while true {
            try await Task.sleep(for: .milliseconds(20))
            let next = try await health()
            if next.received != last.received { stableSince = ContinuousClock.now }
            last = next
            let received = last.received - baseline.received
            let settled = last.stored - baseline.stored + last.refused - baseline.refused >= received
            if settled, received == sent || ContinuousClock.now - stableSince > .seconds(1) { break }
        }
        let seconds = LoadGenerator.seconds(ContinuousClock.now - t0)
        let stored = last.stored - baseline.stored
        print(String(format: "X-Ray UDP ingest: %d segments (%.0f bytes each, %@) sent at %.0f/s in %.2f s; %d stored (%d refused, %d lost) in %.2f s = %.0f segments/s",
                     sent, asTheyEnd ? "each sent as its segment ends" : "a trace's five back to back", Double(bytes) / Double(sent), Double(sent) / sendSeconds, sendSeconds, stored,
                     last.refused - baseline.refused, sent - (last.received - baseline.received), seconds, Double(stored) / seconds))
        if let cpu0, let cpu1 = serverPid.flatMap(MetricBench.cpuSeconds) {
            print(String(format: "X-Ray UDP ingest: the collector used %.2f CPU-seconds = %.0f segments per CPU-second",
                         cpu1 - cpu0, Double(stored) / (cpu1 - cpu0)))
        }
        if let steal = MachineReference.stealLine(since: ticks0) { print(steal) }

        // Summaries: one customer's traces (1 in 1,000) among everything just stored, first page, five runs; then one whose
        // traces all have a fault in payments (every 50th trace faults), through a service() { } term as well.
        for filter in ["annotation.customer = \"c0042\"", "annotation.customer = \"c0050\" AND service(\"payments\") { fault }"] {
            var times: [Double] = []
            var found = 0, processed = 0
            for _ in 0..<5 {
                let body = #"{"StartTime":\#(now - 600),"EndTime":\#(now + 600),"FilterExpression":\#(String(decoding: WireValue.string(filter).jsonBytes, as: UTF8.self))}"#
                var request = HTTPClientRequest(url: endpoint + "/TraceSummaries")
                request.method = .POST
                request.body = .bytes(Array(body.utf8))
                let t = ContinuousClock.now
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let answer = try WireValue.parseJSON(Array(try await response.body.collect(upTo: 64 << 20).readableBytesView))
                times.append(LoadGenerator.seconds(ContinuousClock.now - t) * 1000)
                found = answer["TraceSummaries"]?.array?.count ?? 0
                processed = Int(answer["TracesProcessedCount"]?.number ?? 0)
            }
            times.sort()
            print(String(format: "GetTraceSummaries %@ over %d traces (%d segments): %d summaries (%d traces read) in %.1f ms median, %.1f ms best",
                         filter, traces, stored, found, processed, times[2], times[0]))
        }
    }

    struct Health { var received: Int; var refused: Int; var stored: Int }

    func health() async throws -> Health {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: endpoint + "/_skylens/health"), timeout: .seconds(30))
        let answer = try WireValue.parseJSON(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        let x = answer["xray"]
        return Health(received: Int(x?["datagramsReceived"]?.number ?? 0), refused: Int(x?["datagramsRefused"]?.number ?? 0),
                      stored: Int(x?["documentsStored"]?.number ?? 0))
    }

    static func hex(_ v: Int, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// When each of a trace's five documents (in the order ``datagrams(trace:now:tracesPerSecond:)`` makes them)
    /// ends, in seconds after the trace starts: the root segment last, the subsegment of the deepest call first.
    static let endOffsets = [0.120, 0.098, 0.070, 0.058, 0.050]

    /// The order datagrams are sent in, as (trace, document): trace by trace, or by the time each document's
    /// (sub)segment ends, trace i starting at i / `tracesPerSecond` seconds.
    static func schedule(traces: Int, tracesPerSecond: Double, asTheyEnd: Bool) -> [(trace: Int, document: Int)] {
        var order: [(trace: Int, document: Int)] = []
        order.reserveCapacity(traces * 5)
        for i in 0..<traces { for k in 0..<5 { order.append((i, k)) } }
        guard asTheyEnd else { return order }
        func end(_ d: (trace: Int, document: Int)) -> Double { Double(d.trace) / tracesPerSecond + endOffsets[d.document] }
        order.sort { end($0) < end($1) || (end($0) == end($1) && ($0.trace, $0.document) < ($1.trace, $1.document)) }
        return order
    }

    /// The five documents of trace `i`, each with the daemon header. Traces start `tracesPerSecond` a second from
    /// `now` on, as a stream sent at that rate does, and their ids carry that second and 96 bits that look random
    /// (as the SDKs' ids do), so that neither the store's time order nor its id order is handed to it sorted.
    static func datagrams(trace i: Int, now: Int, tracesPerSecond: Double) -> [[UInt8]] {
        let t = Double(now) + Double(i) / tracesPerSecond
        var mixed = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
        mixed ^= mixed >> 29
        let tid = "1-\(hex(Int(t), 8))-\(hex(Int(mixed >> 32), 8))\(hex(i, 16))"
        func id(_ k: Int) -> String { hex(i * 16 + k + 1, 16) }
        let customer = "c" + String(format: "%04d", i % customers)
        let fault = i % 50 == 0
        let header = #"{"format":"json","version":1}"# + "\n"
        let docs = [
            #"{"trace_id":"\#(tid)","id":"\#(id(0))","name":"api","origin":"AWS::EC2::Instance","start_time":\#(t),"end_time":\#(t + endOffsets[0]),"http":{"request":{"method":"POST","url":"https://api.example.com/orders/\#(i)","client_ip":"10.0.0.\#(i % 250)"},"response":{"status":200}},"annotations":{"customer":"\#(customer)","tier":\#(i % 3)},"user":"user-\#(i % 5000)","subsegments":[{"id":"\#(id(1))","name":"orders","namespace":"remote","start_time":\#(t + 0.005),"end_time":\#(t + 0.100),"http":{"request":{"method":"POST","url":"https://orders/","traced":true},"response":{"status":200}}},{"id":"\#(id(2))","name":"DynamoDB","namespace":"aws","start_time":\#(t + 0.101),"end_time":\#(t + 0.110),"aws":{"operation":"GetItem","table_name":"sessions"}}]}"#,
            #"{"trace_id":"\#(tid)","id":"\#(id(3))","parent_id":"\#(id(1))","name":"orders","origin":"AWS::Lambda::Function","start_time":\#(t + 0.006),"end_time":\#(t + endOffsets[1]),"http":{"response":{"status":200}},"subsegments":[{"id":"\#(id(4))","name":"payments","namespace":"remote","start_time":\#(t + 0.010),"end_time":\#(t + 0.060),"http":{"request":{"traced":true},"response":{"status":\#(fault ? 500 : 200)}}\#(fault ? #","fault":true"# : "")}]}"#,
            #"{"trace_id":"\#(tid)","id":"\#(id(5))","type":"subsegment","parent_id":"\#(id(3))","name":"validate","start_time":\#(t + 0.061),"end_time":\#(t + endOffsets[2])}"#,
            #"{"trace_id":"\#(tid)","id":"\#(id(6))","parent_id":"\#(id(4))","name":"payments","origin":"AWS::ECS::Container","start_time":\#(t + 0.012),"end_time":\#(t + endOffsets[3]),"http":{"response":{"status":\#(fault ? 500 : 200)}}\#(fault ? #","fault":true"# : "")}"#,
            #"{"trace_id":"\#(tid)","id":"\#(id(7))","type":"subsegment","parent_id":"\#(id(6))","name":"charge","start_time":\#(t + 0.013),"end_time":\#(t + endOffsets[4])\#(fault ? #","fault":true,"cause":{"exceptions":[{"id":"\#(id(8))","type":"CardDeclined","message":"declined"}]}"# : "")}"#,
        ]
        return docs.map { Array((header + $0).utf8) }
    }
}
