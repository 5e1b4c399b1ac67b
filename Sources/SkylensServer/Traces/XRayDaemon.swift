import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SkylensCore
import SkylensStorage

/// The X-Ray daemon's UDP side on `--xray-port` (127.0.0.1:2000 by default): each datagram is a JSON header line
/// and one segment document. Datagrams are taken off the socket by the event loop, parsed and validated here in
/// batches (a datagram the daemon would drop, or an invalid document, is counted and logged), and written through
/// the trace writer. The same port's TCP side serves the X-Ray API (the SDKs' sampling polls).
package final class XRayDaemon: Service {
    /// Datagrams waiting to be parsed; beyond this many the oldest are dropped, as a full UDP buffer would.
    static let maxPending = 200_000

    private struct State {
        var pending: [[UInt8]] = []
        var dropped = 0
    }

    private let channel: any Channel
    private let writer: TraceWriter
    private let wallClock: any WallClock
    private let logger: Logger
    private let state = LockedState(State())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    /// Documents accepted and refused so far (for `/_skylens/health` and tests).
    package let counts = LockedState((accepted: 0, rejected: 0))

    /// Binds the UDP socket now, so that the port (resolved when 0) is known to the TCP side before anything runs.
    package init(host: String, port: Int, writer: TraceWriter, wallClock: any WallClock, logger: Logger) throws {
        self.writer = writer
        self.wallClock = wallClock
        self.logger = logger
        (doorbell, ring) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let state = self.state, ring = self.ring
        channel = try DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 8 * 1024 * 1024)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler { bytes in
                        state.withLock { s in
                            if s.pending.count >= Self.maxPending {
                                s.pending.removeFirst()
                                s.dropped += 1
                            }
                            s.pending.append(bytes)
                        }
                        ring.yield()
                    })
                }
            }
            .bind(host: host, port: port).wait()
    }

    package var port: Int { channel.localAddress?.port ?? 0 }

    /// Binds the daemon's UDP socket. With port 0 the system picks a port free for UDP, but the daemon's TCP side
    /// (the sampling endpoints) is bound to the same number later, and TCP may have it in use: a port is kept only
    /// when a TCP listener could bind it too (a few tries), so that start-up does not fail at random.
    package static func bind(host: String, port: Int, writer: TraceWriter, wallClock: any WallClock, logger: Logger) throws -> XRayDaemon {
        var attempt = 0
        while true {
            let daemon = try XRayDaemon(host: host, port: port, writer: writer, wallClock: wallClock, logger: logger)
            attempt += 1
            guard port == 0, attempt < 20 else { return daemon }
            do {
                let probe = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: daemon.port).wait()
                try probe.close().wait()
                return daemon
            } catch {
                try? daemon.channel.close().wait()
            }
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            // Parsing the next datagrams overlaps with committing the previous ones (at most two batches in flight).
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await _ in doorbell {
                    while let documents = parsePending() {
                        if inFlight >= 2 {
                            await group.next()
                            inFlight -= 1
                        }
                        group.addTask { await self.store(documents) }
                        inFlight += 1
                    }
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.ring.finish()
        }
        try? await channel.close()
        while let documents = parsePending() { await store(documents) }
    }

    private func store(_ documents: [SegmentDocument]) async {
        do {
            try await writer.put(documents)
        } catch {
            logger.error("x-ray segments not stored", metadata: ["error": "\(error)", "count": "\(documents.count)"])
        }
    }

    /// Takes the datagrams waiting and parses them; nil when none are waiting.
    private func parsePending() -> [SegmentDocument]? {
        let (datagrams, dropped) = state.withLock { s -> ([[UInt8]], Int) in
            defer { s.pending.removeAll(keepingCapacity: true); s.dropped = 0 }
            return (s.pending, s.dropped)
        }
        if dropped > 0 { logger.warning("x-ray datagrams dropped: too many waiting", metadata: ["count": "\(dropped)"]) }
        guard !datagrams.isEmpty else { return nil }
        let now = wallClock.nowMillis() / 1000
        var documents: [SegmentDocument] = []
        documents.reserveCapacity(datagrams.count)
        var rejected = 0
        for d in datagrams {
            let parsed = d.withUnsafeBytes { buffer -> Result<SegmentDocument, SegmentError> in
                switch DaemonDatagram.document(buffer) {
                case .failure(let r):
                    return .failure(SegmentError("InvalidDatagram", r == .invalidHeader ? "invalid header" : "missing header or segment"))
                case .success(let body):
                    return Result { () throws(SegmentError) in
                        SegmentDocument(segment: try Segment.parse(body, nowSeconds: now), text: String(decoding: body, as: UTF8.self))
                    }
                }
            }
            switch parsed {
            case .success(let doc): documents.append(doc)
            case .failure(let error):
                rejected += 1
                logger.debug("x-ray document refused", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            }
        }
        counts.withLock { $0.accepted += documents.count; $0.rejected += rejected }
        return documents
    }
}

/// Hands each datagram's bytes to `receive` on the event loop.
private final class DatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let receive: @Sendable ([UInt8]) -> Void

    init(receive: @escaping @Sendable ([UInt8]) -> Void) { self.receive = receive }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        if let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) { receive(bytes) }
    }
}
