import Foundation
import SkylensCore

/// Decodes blocks and picks out the events that match, in parallel across the machine's cores.
enum BlockScanner {
    static func scan(_ metas: [BlockMeta], blobs: [Int64: Data], names: [Int64: String], matcher: CompiledFilterPattern?,
                     accept: @Sendable (Int64, Int64, Int64) -> Bool) throws -> [StoredEvent] {
        let results = ResultSlots(count: metas.count)
        DispatchQueue.concurrentPerform(iterations: metas.count) { i in
            let meta = metas[i]
            // A block deleted since its index entry was read (retention, a deleted stream) is simply skipped.
            guard let blob = blobs[meta.id], let name = names[meta.streamID] else { return results.set(i, .success([])) }
            results.set(i, Result { try scanBlock(meta, blob: blob, stream: name, matcher: matcher, accept: accept) })
        }
        var out: [StoredEvent] = []
        for r in results.take() { out.append(contentsOf: try r.get()) }
        return out
    }

    static func scanBlock(_ meta: BlockMeta, blob: Data, stream: String, matcher: CompiledFilterPattern?,
                          accept: (Int64, Int64, Int64) -> Bool) throws -> [StoredEvent] {
        let columns = try blob.withUnsafeBytes { try BlockCodec.decode($0) }
        var out: [StoredEvent] = []
        columns.bytes.withUnsafeBytes { buffer in
            func emit(_ i: Int) {
                let seq = meta.baseSeq + columns.seqOffsets[i]
                let ts = columns.timestamps[i]
                guard accept(ts, meta.streamID, seq) else { return }
                let message = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[columns.offsets[i]..<columns.offsets[i + 1]]), as: UTF8.self)
                out.append(StoredEvent(stream: stream, streamID: meta.streamID, seq: seq, timestamp: ts,
                                       ingestionTime: columns.ingestionTimes[i], message: message))
            }
            guard let matcher, !matcher.matchesAll else {
                for i in 0..<columns.count { emit(i) }
                return
            }
            func message(_ i: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: buffer[columns.offsets[i]..<columns.offsets[i + 1]])
            }
            if let needles = matcher.prefilter, !needles.contains(where: \.isEmpty) {
                // Every matching message holds one of the needles: search the whole message region for each, and run
                // the pattern only on the messages that hold one (a single plain term, whose prefilter is exact, is
                // not run at all; a JSON pattern's walk is the costly part).
                var candidate = [Bool](repeating: false, count: columns.count)
                for needle in needles {
                    ByteSearch.forEachMessage(containing: needle, in: buffer, offsets: columns.offsets) { candidate[$0] = true }
                }
                for i in 0..<columns.count where candidate[i] && (matcher.prefilterIsExact || matcher.matches(message(i))) { emit(i) }
                return
            }
            for i in 0..<columns.count where matcher.matches(message(i)) { emit(i) }
        }
        return out
    }
}

/// Per-iteration result slots filled from `concurrentPerform`; each slot is written by exactly one iteration.
final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<[StoredEvent], any Error>]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: .success([]), count: count) }

    func set(_ i: Int, _ value: Result<[StoredEvent], any Error>) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }

    func take() -> [Result<[StoredEvent], any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
