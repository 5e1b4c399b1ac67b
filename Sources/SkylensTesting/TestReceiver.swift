import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SkylensStorage

/// An HTTP endpoint on 127.0.0.1 that records what is posted to it (SNS-style deliveries, in tests). It can be
/// stopped and started again on the same port (refused connections meanwhile), and told to answer with a status.
package final class TestReceiver: Sendable {
    package struct Received: Sendable {
        package var headers: [String: String]
        package var body: String
    }

    package let port: Int
    private let state = LockedState(State())

    private struct State {
        var received: [Received] = []
        var status = 200
        var running: Task<Void, any Error>?
    }

    package var url: String { "http://127.0.0.1:\(port)/hook" }

    package init() throws {
        // A free port: bind one, note it, let it go.
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
        try channel.close().wait()
    }

    package var received: [Received] { state.withLock { $0.received } }

    /// The status later posts are answered with (200 by default).
    package func answer(_ status: Int) { state.withLock { $0.status = status } }

    package func start() async throws {
        let router = Router()
        router.post("/hook") { [state] request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = state.withLock { s in
                s.received.append(Received(headers: headers, body: String(buffer: body)))
                return s.status
            }
            return Response(status: .init(code: status))
        }
        var logger = Logger(label: "test-receiver")
        logger.logLevel = .critical
        let bound = LockedState(false)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { _ in bound.withLock { $0 = true } }, logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        state.withLock { $0.running = task }
        _ = try await eventually("the receiver listens") { bound.withLock { $0 } ? true : nil }
    }

    /// Stops listening: posts are refused until ``start()``.
    package func stop() async {
        let task = state.withLock { s -> Task<Void, any Error>? in
            defer { s.running = nil }
            return s.running
        }
        task?.cancel()
        _ = try? await task?.value
    }
}
