import Foundation
import SkylensCore

/// Ships lines as log events through `PutLogEvents`, in batches: a batch goes out at 1,000 events, near the 1 MB
/// batch limit, or whenever ``flush()`` is called (the commands call it every 200 ms while lines arrive).
package actor LogShipper {
    package let client: CollectorClient
    package let group: String
    package let stream: String
    private let clock: any WallClock
    private var pending: [(timestamp: Int64, message: String)] = []
    private var pendingBytes = 0
    private var lastTimestamp: Int64 = 0
    package private(set) var shipped = 0

    package static let maxBatchEvents = 1_000
    package static let maxBatchBytes = 900_000
    /// The longest message sent; longer lines are cut to this many bytes.
    package static let maxMessageBytes = PutLogEventsPolicy.maxEventBytes - PutLogEventsPolicy.perEventOverhead

    package init(client: CollectorClient, group: String, stream: String, clock: any WallClock) {
        self.client = client
        self.group = group
        self.stream = stream
        self.clock = clock
    }

    /// Queues one line as an event stamped now (never earlier than the previous one, so batches stay in order).
    package func add(_ line: String) async throws {
        guard !line.isEmpty else { return }
        var message = line
        if message.utf8.count > Self.maxMessageBytes {
            message = String(decoding: message.utf8.prefix(Self.maxMessageBytes), as: UTF8.self)
        }
        lastTimestamp = max(lastTimestamp, clock.nowMillis())
        pending.append((lastTimestamp, message))
        pendingBytes += message.utf8.count + PutLogEventsPolicy.perEventOverhead
        if pending.count >= Self.maxBatchEvents || pendingBytes >= Self.maxBatchBytes {
            try await flush()
        }
    }

    /// Sends whatever is queued.
    package func flush() async throws {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
        _ = try await client.putLogEvents(group: group, stream: stream, events: batch)
        shipped += batch.count
    }
}

/// Reads file descriptors line by line on background queues.
package enum LineReader {
    /// The lines of `handle` (without their `\n`), until end of file. `echo` receives every byte read, unchanged.
    package static func lines(_ handle: FileHandle, echo: FileHandle? = nil) -> AsyncStream<String> {
        lines([(handle, echo)])
    }

    /// The lines of several handles as one stream, in arrival order; it ends when every handle has reached its end.
    package static func lines(_ sources: [(handle: FileHandle, echo: FileHandle?)]) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let open = NSLock()
        nonisolated(unsafe) var remaining = sources.count
        for source in sources {
            DispatchQueue.global().async {
                read(source.handle, echo: source.echo) { continuation.yield($0) }
                open.lock()
                remaining -= 1
                let last = remaining == 0
                open.unlock()
                if last { continuation.finish() }
            }
        }
        if sources.isEmpty { continuation.finish() }
        return stream
    }

    private static func read(_ handle: FileHandle, echo: FileHandle?, _ emit: (String) -> Void) {
        var pending = Data()
        while true {
            let data = handle.availableData
            if data.isEmpty { break }
            echo?.write(data)
            pending.append(data)
            while let newline = pending.firstIndex(of: 0x0A) {
                var line = pending[pending.startIndex..<newline]
                if line.last == 0x0D { line = line.dropLast() }
                emit(String(decoding: line, as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { emit(String(decoding: pending, as: UTF8.self)) }
    }
}
