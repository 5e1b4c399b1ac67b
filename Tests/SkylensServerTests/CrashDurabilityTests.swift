import Foundation
import SkylensClient
import SkylensTesting
import Testing

/// `skylens serve` as a separate process, killed with SIGKILL during a sustained ingest: every event whose
/// PutLogEvents was acknowledged must be there after a restart.
struct CrashDurabilityTests {
    /// The `skylens` binary built next to the tests (`swift build` builds it; `make test` runs that first).
    static var binary: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/skylens")
    }

    /// A running `skylens serve` child process and the port it bound.
    struct Server {
        let process: Process
        let port: Int
        let lines: AsyncStream<String>

        static func start(dataDirectory: String) async throws -> Server {
            let process = Process()
            process.executableURL = CrashDurabilityTests.binary
            // Both ports chosen by the system: a fixed X-Ray port (2000 by default) would make this test depend on
            // what else runs on the machine.
            process.arguments = ["serve", "--port", "0", "--xray-port", "0", "--data-dir", dataDirectory, "--log-level", "info"]
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let lines = LineReader.lines(err.fileHandleForReading)
            // The start-up line names the X-Ray daemon's port (`xray.address=127.0.0.1:<port>`); Hummingbird then logs
            // "Server started and listening on 127.0.0.1:<port>" for the daemon's TCP side and for the API, in either order.
            var xrayPort: Int?
            for await line in lines {
                if let range = line.range(of: "xray.address="),
                   let port = Int(line[range.upperBound...].prefix { $0 != " " }.split(separator: ":").last ?? "") {
                    xrayPort = port
                }
                if let range = line.range(of: "listening on "), let port = Int(line[range.upperBound...].split(separator: ":").last ?? ""),
                   xrayPort != nil, port != xrayPort {
                    return Server(process: process, port: port, lines: lines)
                }
            }
            throw TimedOut(what: "skylens serve reports its port (it exited with \(process.terminationStatus))")
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    actor Acknowledged {
        var messages: Set<String> = []
        var batches = 0
        func add(_ batch: [String]) {
            messages.formUnion(batch)
            batches += 1
        }
    }

    @Test func sigkillDuringIngestLosesNoAcknowledgedEvent() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the skylens binary first: swift build")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let first = try await Server.start(dataDirectory: dir)
        // A short timeout: once the server is dead, AsyncHTTPClient keeps retrying a refused connection until the
        // request's deadline, and the writers should give up quickly.
        let client = CollectorClient(endpoint: "http://127.0.0.1:\(first.port)", timeout: .seconds(2))
        try await client.ensureStream(group: "crash", stream: "s")
        let acked = Acknowledged()
        let base = Int64(Date().timeIntervalSince1970 * 1000)

        try await withThrowingTaskGroup(of: Void.self) { writers in
            for w in 0..<4 {
                writers.addTask {
                    // Each writer sends until the server dies under it; small and large batches mix hot rows and blocks.
                    for b in 0..<100_000 {
                        let size = b % 3 == 0 ? 400 : 20
                        let messages = (0..<size).map { "writer \(w) batch \(b) event \($0) " + String(repeating: "p", count: 150) }
                        let events = messages.enumerated().map { (timestamp: base + Int64($0.offset), message: $0.element) }
                        do {
                            _ = try await client.putLogEvents(group: "crash", stream: "s", events: events)
                        } catch {
                            return
                        }
                        await acked.add(messages)
                    }
                }
            }
            _ = try await eventually("writers have 60 acknowledged batches", timeout: .seconds(60)) {
                await acked.batches >= 60 ? true : nil
            }
            first.kill9()
            try await writers.waitForAll()
        }

        let acknowledged = await acked.messages
        let second = try await Server.start(dataDirectory: dir)
        defer { second.stop() }
        let reader = CollectorClient(endpoint: "http://127.0.0.1:\(second.port)")
        var stored: [String] = []
        var token: String?
        repeat {
            let page = try await reader.logs("FilterLogEvents", { w in
                w.field("logGroupName", "crash")
                w.fieldIfPresent("nextToken", token)
            }, as: LogsModels.FilterLogEvents.self)
            stored += page.events.map(\.message)
            token = page.nextToken
        } while token != nil
        let storedSet = Set(stored)
        #expect(acknowledged.count >= 60 * 20)
        #expect(acknowledged.subtracting(storedSet).isEmpty, "lost \(acknowledged.subtracting(storedSet).count) acknowledged events")
        #expect(storedSet.count == stored.count, "no event is stored twice")
    }
}
