import AsyncHTTPClient
import Foundation
import Logging
import SkylensClient
import SkylensCore
import SkylensServer
import SkylensStorage

/// The real collector on `127.0.0.1:0` with a temporary data directory, for integration tests.
///
/// ```swift
/// try await TestCollector.with { collector in
///     _ = try await collector.client.logs("DescribeLogGroups", [])
/// }
/// ```
package struct TestCollector: Sendable {
    package let collector: Collector
    package let port: Int
    package let dataDirectory: String
    /// This collector's own HTTP client for raw requests: a pooled keep-alive connection must never outlive its
    /// collector and be reused against a later one that got the same port (the shared client's pool allowed that).
    let http: HTTPClient

    package var endpoint: String { "http://127.0.0.1:\(port)" }
    package var client: CollectorClient { CollectorClient(endpoint: endpoint) }

    /// Starts a collector, runs `body` against it once both of its HTTP sides listen, then shuts it down gracefully
    /// and removes its data.
    package static func with<T: Sendable>(
        configure: (inout CollectorConfiguration) -> Void = { _ in },
        wallClock: any WallClock = SystemWallClock(),
        _ body: @Sendable (TestCollector) async throws -> T
    ) async throws -> T {
        var config = CollectorConfiguration()
        config.port = 0
        config.xrayPort = 0
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-test-\(UUID().uuidString)").path
        config.dataDirectory = scratch
        // No rules unless a test asks for some: the repository's rules/ must not leak into tests.
        config.rulesDirectory = scratch + "/no-rules"
        configure(&config)
        var logger = Logger(label: "skylens-test")
        logger.logLevel = .warning
        let collector = try Collector.build(configuration: config, wallClock: wallClock, logger: logger)
        let group = collector.makeServiceGroup(signals: [])
        // A data directory chosen by the test is the test's to keep; the scratch one goes.
        defer { if config.dataDirectory == scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let failed = LockedState<(any Error)?>(nil)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                do {
                    try await group.run()
                } catch {
                    failed.withLock { $0 = error }
                    throw error
                }
                return nil
            }
            let port = try await eventually("the collector listens on its ports") { () throws -> Int? in
                // A collector that failed to start says why, instead of the wait timing out.
                if let error = failed.withLock({ $0 }) { throw error }
                guard collector.xrayListening.withLock({ $0 }) else { return nil }
                return collector.boundPort.withLock { $0 }
            }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let result: Result<T, any Error>
            do {
                result = .success(try await body(TestCollector(collector: collector, port: port, dataDirectory: config.dataDirectory, http: http)))
            } catch {
                result = .failure(error)
            }
            // A graceful shutdown also when the test failed: cancelling the servers could drop a just-accepted
            // connection unserved, which swift-nio traps on (apple/swift-nio#3481).
            try? await http.shutdown()
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return try result.get()
        }
    }
}

/// Polls `condition` until it yields a value or the deadline passes: awaiting a condition, never a fixed sleep.
package func eventually<T>(_ what: String, timeout: Duration = .seconds(10),
                           _ condition: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await condition() { return value }
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

package struct TimedOut: Error, CustomStringConvertible {
    package var what: String
    package init(what: String) { self.what = what }
    package var description: String { "timed out waiting until \(what)" }
}
