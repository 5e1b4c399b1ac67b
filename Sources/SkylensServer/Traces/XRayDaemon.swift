import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SkylensCore
import SkylensStorage

/// The X-Ray daemon's UDP side on `--xray-port` (127.0.0.1:2000 by default): each datagram is a JSON header line
/// and one segment document. Datagrams are taken off the socket in bursts by a thread of their own, parsed and
/// validated here in batches (a datagram the daemon would drop, or an invalid document, is counted and logged), and
/// written through the trace writer; documents that arrive before their trace's root segment wait for it
/// (``RootlessHold``), so that each trace is written once. The same port's TCP side serves the X-Ray API (the SDKs'
/// sampling polls).
package final class XRayDaemon: Service {
    /// Datagrams waiting to be parsed; beyond this many new ones are dropped, as a full UDP buffer would. Waiting
    /// datagrams are kept as received (about 160 MB for the default 400,000 documents of 400 bytes); only a
    /// batch at a time is parsed, since a parsed document takes several times its size.
    let maxPending: Int

    /// Datagrams back to back: the i-th ends at `ends[i]`.
    private struct Datagrams {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        /// How many of them the parser has taken (its side only).
        var parsed = 0
    }

    /// Datagrams parsed (and committed) as one batch at most: a backlog of hundreds of thousands would otherwise
    /// become one batch of parsed documents and one commit, hundreds of megabytes at once.
    let maxBatch: Int

    /// How long the first of the waiting datagrams waits for more before they are parsed (unless ``maxBatch`` are
    /// waiting already): a steady stream is then committed in batches of about this long's datagrams (10,000 at
    /// 50,000 a second) instead of whatever arrived since the last burst, and a commit's fixed costs (its WAL pages,
    /// the pages every commit rewrites) are shared by more documents. The X-Ray daemon itself sends in batches.
    /// (Before documents waited for their trace's root, 200 ms instead of 50 made a third more segments per
    /// CPU-second of documents sent as their segments end, traces then spanning fewer commits. With the wait, 200 and
    /// 50 ms measure the same on those, and 200 about 3% better on traces sent whole, for about 30 MB more memory
    /// at 50,000 segments a second.)
    let gather: Duration

    /// How long a document waits for its trace's root segment at most (``RootlessHold``): documents sent before their
    /// trace's root (every downstream service's) are written with it, so that the trace is assembled once.
    let holdLimit: Duration

    /// Datagrams received and not yet parsed.
    private struct State {
        var received = Datagrams()
        /// When the first of `received` was taken off the socket (nil when none is waiting).
        var firstReceived: ContinuousClock.Instant?
        /// Dropped since the last parse (logged then), and since start.
        var dropped = 0
        var droppedTotal = 0
    }

    private let socket: DatagramSocket
    private let writer: TraceWriter
    private let wallClock: any WallClock
    private let logger: Logger
    private let state = LockedState(State())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    /// Documents accepted and refused so far (for `/_skylens/health` and tests).
    package let counts = LockedState((accepted: 0, rejected: 0))
    /// Datagrams dropped so far because too many were waiting.
    package var dropped: Int { state.withLock { $0.droppedTotal } }
    /// Datagrams taken off the socket and not yet parsed.
    package var waiting: Int { state.withLock { $0.received.ends.count } }
    /// Documents parsed and waiting for their trace's root segment.
    package var held: Int { holdState.withLock { $0.held } }

    /// What the parsing loop's ``RootlessHold`` (a local of ``run()``) shares with other threads: how many documents
    /// it holds, and the traces whose root segments were stored another way (PutTraceSegments) while it held some,
    /// not yet passed to it.
    private struct HoldState {
        var held = 0
        var rootsStored: Set<TraceKey> = []
    }
    private let holdState = LockedState(HoldState())

    /// Binds the UDP socket now, so that the port (resolved when 0) is known to the TCP side before anything runs.
    private init(host: String, port: Int, maxPending: Int, maxBatch: Int, gather: Duration, holdLimit: Duration,
                 writer: TraceWriter, wallClock: any WallClock, logger: Logger) throws {
        self.maxPending = maxPending
        self.maxBatch = maxBatch
        self.gather = gather
        self.holdLimit = holdLimit
        self.writer = writer
        self.wallClock = wallClock
        self.logger = logger
        (doorbell, ring) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        socket = try DatagramSocket(host: host, port: port, receiveBuffer: 8 * 1024 * 1024)
    }

    /// Starts taking datagrams off the socket (they wait, parsed by `run`, which may start later).
    private func startReceiving() {
        let state = self.state, ring = self.ring, maxPending = self.maxPending
        socket.start { burst in
            state.withLock { s in
                if s.firstReceived == nil { s.firstReceived = .now }
                burst.forEach { datagram in
                    guard s.received.ends.count < maxPending else {
                        s.dropped += 1
                        s.droppedTotal += 1
                        return
                    }
                    s.received.bytes.append(contentsOf: datagram)
                    s.received.ends.append(s.received.bytes.count)
                }
            }
            ring.yield()
        }
    }

    package var port: Int { socket.port }

    /// Tells the daemon that these traces' root segments were stored another way (PutTraceSegments): documents of
    /// theirs waiting for their roots are then written at once, without waiting out the limit. (Documents not yet
    /// parsed when this is called still wait.)
    package func rootsStored(_ traces: some Sequence<TraceKey>) {
        let noted = holdState.withLock { s -> Bool in
            guard s.held > 0 else { return false }
            s.rootsStored.formUnion(traces)
            return true
        }
        if noted { ring.yield() }
    }

    /// Where a port is looked for when the daemon's is configured as 0: below the ephemeral ranges (Linux 32768–60999,
    /// IANA 49152–65535), which the system's own choices (other servers' port 0, every outgoing connection) come from.
    static let assignablePorts = 10_000..<32_768

    /// Binds the daemon's UDP socket. With port 0 a port is picked at random from ``assignablePorts`` and kept when
    /// both UDP and TCP can bind it (the daemon's TCP side, the sampling endpoints, binds the same number when the
    /// collector runs). A port the system picked would come from the ephemeral range, where an outgoing connection
    /// of this or another process can take its TCP number before the TCP side binds it.
    package static func bind(host: String, port: Int, maxPending: Int = 400_000, maxBatch: Int = 16_384,
                             gather: Duration = .milliseconds(200), holdLimit: Duration = .seconds(1), writer: TraceWriter,
                             wallClock: any WallClock, logger: Logger) throws -> XRayDaemon {
        guard port == 0 else {
            let daemon = try XRayDaemon(host: host, port: port, maxPending: maxPending, maxBatch: maxBatch, gather: gather,
                                        holdLimit: holdLimit, writer: writer, wallClock: wallClock, logger: logger)
            daemon.startReceiving()
            return daemon
        }
        var attempt = 0
        while true {
            attempt += 1
            let candidate = Int.random(in: assignablePorts)
            let daemon: XRayDaemon
            do {
                daemon = try XRayDaemon(host: host, port: candidate, maxPending: maxPending, maxBatch: maxBatch, gather: gather,
                                        holdLimit: holdLimit, writer: writer, wallClock: wallClock, logger: logger)
            } catch where attempt < 50 {
                continue
            }
            do {
                let probe = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: daemon.port).wait()
                try probe.close().wait()
                daemon.startReceiving()
                return daemon
            } catch where attempt < 50 {
                daemon.socket.closeUnstarted()
            }
        }
    }

    package func run() async throws {
        var buffer = Datagrams()
        var hold = RootlessHold(limit: holdLimit, capacity: maxBatch)
        // While documents wait for their root, the doorbell also rings a few times a second, so that they are
        // released on time when no datagram comes.
        let ring = self.ring, tick = holdLimit / 4, holdState = self.holdState
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                if holdState.withLock({ $0.held }) > 0 { ring.yield() }
            }
        }
        await withGracefulShutdownHandler {
            // Parsing the next datagrams overlaps with committing the previous ones (at most two batches in flight).
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await _ in doorbell {
                    while let documents = await parseGathered(into: &buffer, hold: &hold) {
                        guard !documents.isEmpty else { continue }
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
        ticker.cancel()
        await socket.stop()
        while let documents = parsePending(into: &buffer, hold: &hold) { await store(documents) }
        await store(hold.releaseAll())
        holdState.withLock { $0 = HoldState() }
    }

    private func store(_ documents: [SegmentDocument]) async {
        guard !documents.isEmpty else { return }
        do {
            try await writer.put(documents)
        } catch {
            logger.error("x-ray segments not stored", metadata: ["error": "\(error)", "count": "\(documents.count)"])
        }
    }

    /// Parses the next datagrams, once the first of those waiting has waited ``gather`` or ``maxBatch`` are waiting
    /// (looked at every few milliseconds meanwhile); returns what `hold` releases.
    private func parseGathered(into buffer: inout Datagrams, hold: inout RootlessHold) async -> [SegmentDocument]? {
        while buffer.parsed == buffer.ends.count,
              let first = state.withLock({ s in s.received.ends.count < maxBatch ? s.firstReceived : nil }) {
            let now = ContinuousClock.now, due = first + gather
            guard now < due else { break }
            try? await Task.sleep(until: min(due, now + Self.gatherCheck), clock: .continuous)
        }
        return parsePending(into: &buffer, hold: &hold)
    }

    /// How often a gathering parser looks whether ``maxBatch`` datagrams are waiting.
    static let gatherCheck = Duration.milliseconds(5)

    /// Parses the next ``maxBatch`` datagrams at most, and returns the documents `hold` releases with them (none
    /// when all wait for their roots); nil when no datagram is waiting and none is released.
    private func parsePending(into buffer: inout Datagrams, hold: inout RootlessHold) -> [SegmentDocument]? {
        let arrived = parseNext(into: &buffer)
        guard arrived != nil || hold.count > 0 else { return nil }
        let rootsStored = holdState.withLock { s in
            defer { s.rootsStored = [] }
            return s.rootsStored
        }
        let released = hold.release(adding: arrived ?? [], rootsStored: rootsStored, now: .now)
        holdState.withLock { $0.held = hold.count }
        return arrived == nil && released.isEmpty ? nil : released
    }

    /// Parses the next ``maxBatch`` datagrams at most; nil when none are waiting. Once `buffer`'s are all parsed,
    /// it is emptied (its capacity kept) and swapped with the datagrams waiting, so that neither side allocates
    /// once both have grown.
    private func parseNext(into buffer: inout Datagrams) -> [SegmentDocument]? {
        if buffer.parsed == buffer.ends.count {
            buffer.bytes.removeAll(keepingCapacity: true)
            buffer.ends.removeAll(keepingCapacity: true)
            buffer.parsed = 0
            let dropped = state.withLock { s -> Int in
                swap(&s.received, &buffer)
                s.firstReceived = nil
                defer { s.dropped = 0 }
                return s.dropped
            }
            if dropped > 0 { logger.warning("x-ray datagrams dropped: too many waiting", metadata: ["count": "\(dropped)"]) }
        }
        let batch = buffer.parsed..<min(buffer.parsed + maxBatch, buffer.ends.count)
        guard !batch.isEmpty else { return nil }
        let ends = buffer.ends[batch]
        var start = batch.lowerBound == 0 ? 0 : buffer.ends[batch.lowerBound - 1]
        buffer.parsed = batch.upperBound
        let now = wallClock.nowMillis() / 1000
        // The accepted documents' texts go end to end into one buffer that their documents share (a string each
        // cost an allocation and a copy per document), given to them once all are in it. Each document is made as
        // soon as its segment is parsed, while the segment is still in the cache.
        var documents: [SegmentDocument] = []
        var textRanges: [Range<Int>] = []
        documents.reserveCapacity(ends.count)
        textRanges.reserveCapacity(ends.count)
        var texts: [UInt8] = []
        texts.reserveCapacity(ends.last! - start)
        var rejected = 0
        var traceIDs = TraceIDReuse()
        buffer.bytes.withUnsafeBytes { all in
            for end in ends {
                let datagram = UnsafeRawBufferPointer(rebasing: all[start..<end])
                start = end
                let segment: Result<Segment, SegmentError>
                switch DaemonDatagram.document(datagram) {
                case .failure(let r):
                    segment = .failure(SegmentError("InvalidDatagram", r == .invalidHeader ? "invalid header" : "missing header or segment"))
                case .success(let body):
                    segment = Result { () throws(SegmentError) in try Segment.parse(body, nowSeconds: now, reusing: &traceIDs) }
                    if case .success(let s) = segment {
                        documents.append(SegmentDocument(segment: s, text: []))
                        textRanges.append(texts.count..<(texts.count + body.count))
                        texts.append(contentsOf: body)
                    }
                }
                if case .failure(let error) = segment {
                    rejected += 1
                    logger.debug("x-ray document refused", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
                }
            }
        }
        for i in documents.indices { documents[i].text = texts[textRanges[i]] }
        counts.withLock { $0.accepted += documents.count; $0.rejected += rejected }
        return documents
    }
}
