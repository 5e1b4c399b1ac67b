import CDatagram
import Foundation
import SkylensStorage

/// A UDP socket read by a thread of its own: each wake-up takes up to 64 waiting datagrams with one `recvmmsg` call
/// and hands them over together (one lock and one wake-up a burst, no allocation a datagram).
final class DatagramSocket: Sendable {
    /// The largest UDP payload fits a slot.
    static let slot = 65_536
    /// Where each slot starts: a cache line further than the slot's size, so that the slots' first bytes (most
    /// datagrams take a few hundred) do not all fall in the same cache sets, as they did 64 KiB apart (the kernel's
    /// copies into them and the reader's copies out of them evicted each other).
    static let stride = slot + 64
    static let burst = 64
    /// How long the reader waits after draining the socket before it looks again.
    static let settleMicroseconds: UInt32 = 4_000

    /// A burst of datagrams: `count` of them, the i-th in `bytes[i * stride ..< i * stride + lengths[i]]`.
    struct Burst {
        let bytes: UnsafeRawBufferPointer
        let lengths: UnsafeBufferPointer<UInt32>
        let count: Int

        func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
            for i in 0..<count {
                body(UnsafeRawBufferPointer(rebasing: bytes[(i * DatagramSocket.stride)..<(i * DatagramSocket.stride + Int(lengths[i]))]))
            }
        }
    }

    struct OpenError: Error, CustomStringConvertible {
        let host: String, port: Int, code: Int32
        var description: String { "cannot bind UDP \(host):\(port): \(String(cString: strerror(code)))" }
    }

    private let fd: Int32
    let port: Int
    private let state = LockedState((stopping: false, stopped: false, waiter: CheckedContinuation<Void, Never>?.none))

    init(host: String, port: Int, receiveBuffer: Int) throws {
        var bound: Int32 = 0
        fd = skylens_udp_open(host, Int32(port), Int32(receiveBuffer), &bound)
        guard fd >= 0 else { throw OpenError(host: host, port: port, code: errno) }
        self.port = Int(bound)
    }

    /// Starts the reading thread; `receive` runs on it for each burst.
    func start(_ receive: @escaping @Sendable (Burst) -> Void) {
        let fd = self.fd, state = self.state
        let thread = Thread {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.stride * Self.burst, alignment: 64)
            let lengths = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: Self.burst)
            defer {
                buffer.deallocate()
                lengths.deallocate()
            }
            while !state.withLock({ $0.stopping }) {
                // A short wait, so that a stop is noticed.
                let n = skylens_udp_receive(fd, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Self.stride, Self.slot, Int32(Self.burst),
                                            lengths.baseAddress!, 100)
                guard n > 0 else { continue }
                receive(Burst(bytes: UnsafeRawBufferPointer(buffer), lengths: UnsafeBufferPointer(lengths), count: Int(n)))
                // The socket is drained: let datagrams gather for a moment, so that a steady stream is taken many at
                // a time (at 50,000 a second, about 200 in four calls) rather than with a wake-up, two system calls
                // and a hand-over each. The socket's buffer holds far more than arrives meanwhile.
                if n < Self.burst { usleep(Self.settleMicroseconds) }
            }
            close(fd)
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.stopped = true
                return s.waiter
            }
            waiter?.resume()
        }
        thread.name = "skylens-xray-udp"
        thread.start()
    }

    /// Stops the reading thread (within its wait of 0.1 s), which closes the socket.
    func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                s.stopping = true
                if s.stopped { return true }
                s.waiter = c
                return false
            }
            if done { c.resume() }
        }
    }

    /// Closes a socket whose thread never started.
    func closeUnstarted() { close(fd) }

    /// A socket dropped without `stop` (a collector that never ran) still ends its thread.
    deinit { state.withLock { $0.stopping = true } }
}
