#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SkylensStorage

/// An HTTP endpoint on 127.0.0.1 that records what is posted to it (SNS-style deliveries, in tests). It can be
/// stopped and started again on the same port: while stopped, the port stays reserved by a socket that is bound but
/// not listening, so connections are refused and no other test can take the port. It can be told to answer with a
/// status.
package final class TestReceiver: Sendable {
    package struct Received: Sendable {
        package var headers: [String: String]
        package var body: String
    }

    private let state = LockedState(State())

    private struct State {
        var received: [Received] = []
        var status = 200
        var port = 0
        var running: (group: ServiceGroup, task: Task<Void, any Error>)?
        /// The placeholder socket holding the port while stopped.
        var placeholder: Int32 = -1
    }

    package init() {}

    /// The port (known after the first ``start()``).
    package var port: Int { state.withLock { $0.port } }
    package var url: String { "http://127.0.0.1:\(port)/hook" }
    package var received: [Received] { state.withLock { $0.received } }

    /// The status later posts are answered with (200 by default).
    package func answer(_ status: Int) { state.withLock { $0.status = status } }

    /// Starts listening: on a free port the first time, on the same port afterwards.
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
        let port = state.withLock { s -> Int in
            if s.placeholder >= 0 { close(s.placeholder); s.placeholder = -1 }
            return s.port
        }
        let bound = LockedState<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } }, logger: logger)
        // Stopped by a graceful shutdown, never by cancelling the serving task: a connection accepted just before a
        // cancellation is dropped unserved, and swift-nio traps on it ("Deinited NIOAsyncWriter without calling
        // finish()", apple/swift-nio#3481). Deliveries connect at any moment, so that window was hit.
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        state.withLock { $0.running = (group, task) }
        let actual = try await eventually("the receiver listens") { bound.withLock { $0 } }
        state.withLock { $0.port = actual }
    }

    /// Stops listening: posts are refused until ``start()``, and the port stays reserved.
    package func stop() async {
        let running = state.withLock { s -> (group: ServiceGroup, task: Task<Void, any Error>)? in
            defer { s.running = nil }
            return s.running
        }
        await running?.group.triggerGracefulShutdown()
        _ = try? await running?.task.value
        state.withLock { s in s.placeholder = Self.reserve(port: s.port) }
    }

    /// A TCP socket bound to 127.0.0.1:`port` without listening (connections to it are refused).
    private static func reserve(port: Int) -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return -1 }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { close(fd); return -1 }
        return fd
    }

    deinit {
        let fd = state.withLock { $0.placeholder }
        if fd >= 0 { close(fd) }
    }
}
