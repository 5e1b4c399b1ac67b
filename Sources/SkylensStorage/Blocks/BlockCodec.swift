import CZlib
import SkylensCore

/// Encodes and decodes the compressed event blocks of the log store. The byte layout is specified in
/// `Sources/SkylensStorage/README.md`; keep the two in step.
///
/// ```
/// 0      4        5          6                 10            14
/// +------+--------+----------+-----------------+-------------+-----------------------+
/// | SKLB | ver=1  | enc=1    | raw length u32  | CRC-32 u32  | zlib(payload)         |
/// +------+--------+----------+-----------------+-------------+-----------------------+
/// payload = count | ts deltas | ingestion deltas | seq deltas | message lengths | messages
/// ```
package enum BlockCodec {
    package static let magic: [UInt8] = Array("SKLB".utf8)
    package static let version: UInt8 = 1
    package static let encodingZlib: UInt8 = 1
    package static let headerSize = 14

    /// A block's events by column: `seqOffsets` are relative to the block's base sequence number.
    package struct Columns: Sendable {
        package var timestamps: [Int64] = []
        package var ingestionTimes: [Int64] = []
        package var seqOffsets: [Int64] = []
        /// Message boundaries in ``bytes`` (count + 1 entries); message `i` is `bytes[offsets[i]..<offsets[i+1]]`.
        package var offsets: [Int] = [0]
        package var bytes: [UInt8] = []

        package init() {}

        package var count: Int { timestamps.count }
    }

    /// Encodes a whole `LogBatch` ingested at one time, with consecutive sequence offsets 0..<count.
    package static func encode(_ batch: LogBatch, ingestionTime: Int64, level: Int32) throws(StorageError) -> EncodedBlockPayload {
        var columns = Columns()
        columns.timestamps = batch.timestamps
        columns.ingestionTimes = Array(repeating: ingestionTime, count: batch.count)
        columns.seqOffsets = (0..<Int64(batch.count)).map { $0 }
        columns.offsets = batch.offsets
        columns.bytes = batch.bytes
        return try encode(columns, level: level)
    }

    /// Encodes `columns` into a block. The payload's column header (counts, deltas, lengths) and its messages are
    /// compressed and checksummed as one stream, without first copying the messages behind the header.
    package static func encode(_ c: Columns, level: Int32) throws(StorageError) -> EncodedBlockPayload {
        var head: [UInt8] = []
        head.reserveCapacity(c.count * 8 + 8)
        Varint.put(UInt64(c.count), into: &head)
        var prev: Int64 = 0
        for t in c.timestamps { Varint.putSigned(t &- prev, into: &head); prev = t }
        prev = 0
        for t in c.ingestionTimes { Varint.putSigned(t &- prev, into: &head); prev = t }
        prev = -1
        for s in c.seqOffsets { Varint.putSigned(s &- prev, into: &head); prev = s }
        for i in 0..<c.count { Varint.put(UInt64(c.offsets[i + 1] - c.offsets[i]), into: &head) }
        let messages = c.offsets[0]..<c.offsets[c.count]
        let rawLength = head.count + messages.count
        guard rawLength <= Int(UInt32.max) else { throw StorageError(.corrupt, "block too large") }

        let bound = Int(compressBound(uLong(rawLength)))
        var status = Z_OK
        var crc: uLong = 0
        var out = [UInt8](unsafeUninitializedCapacity: headerSize + bound) { dst, initialized in
            var stream = z_stream()
            status = deflateInit_(&stream, level, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else { return }
            defer { deflateEnd(&stream) }
            stream.next_out = dst.baseAddress! + headerSize
            stream.avail_out = uInt(bound)
            head.withUnsafeBufferPointer { h in
                crc = crc32(crc, h.baseAddress, uInt(h.count))
                stream.next_in = UnsafeMutablePointer(mutating: h.baseAddress)
                stream.avail_in = uInt(h.count)
                status = deflate(&stream, Z_NO_FLUSH)
            }
            guard status == Z_OK else { return }
            c.bytes.withUnsafeBufferPointer { all in
                let m = UnsafeBufferPointer(rebasing: all[messages])
                crc = crc32(crc, m.baseAddress, uInt(m.count))
                stream.next_in = UnsafeMutablePointer(mutating: m.baseAddress)
                stream.avail_in = uInt(m.count)
                status = deflate(&stream, Z_FINISH)
            }
            guard status == Z_STREAM_END else { return }
            status = Z_OK
            initialized = headerSize + Int(stream.total_out)
        }
        guard status == Z_OK else { throw StorageError(.corrupt, "zlib compress failed with status \(status)") }
        for (i, b) in magic.enumerated() { out[i] = b }
        out[4] = version
        out[5] = encodingZlib
        putUInt32(UInt32(rawLength), into: &out, at: 6)
        putUInt32(UInt32(crc), into: &out, at: 10)
        return EncodedBlockPayload(bytes: out, rawBytes: rawLength)
    }

    /// Decodes a block, verifying its header and checksum.
    package static func decode(_ block: UnsafeRawBufferPointer) throws(StorageError) -> Columns {
        guard block.count >= headerSize, Array(block[0..<4]) == magic else {
            throw StorageError(.corrupt, "not a Skylens block")
        }
        guard block[4] == version, block[5] == encodingZlib else {
            throw StorageError(.corrupt, "unsupported block version \(block[4]) or encoding \(block[5])")
        }
        let rawLength = Int(readUInt32(block, at: 6))
        let expectedCRC = readUInt32(block, at: 10)
        var destLength = uLong(rawLength)
        var status: Int32 = Z_OK
        let payload = [UInt8](unsafeUninitializedCapacity: rawLength) { dst, initialized in
            status = uncompress(dst.baseAddress, &destLength, block.baseAddress!.assumingMemoryBound(to: UInt8.self) + headerSize,
                                uLong(block.count - headerSize))
            initialized = status == Z_OK ? min(Int(destLength), rawLength) : 0
        }
        guard status == Z_OK, Int(destLength) == rawLength else {
            throw StorageError(.corrupt, "zlib uncompress failed with status \(status)")
        }
        guard checksum(payload) == expectedCRC else { throw StorageError(.corrupt, "block checksum mismatch") }
        return try parsePayload(payload)
    }

    private static func parsePayload(_ payload: [UInt8]) throws(StorageError) -> Columns {
        var reader = Varint.Reader(payload)
        guard let n64 = reader.next(), n64 <= UInt64(payload.count) else { throw StorageError(.corrupt, "bad event count") }
        let n = Int(n64)
        var c = Columns()
        c.timestamps.reserveCapacity(n)
        c.ingestionTimes.reserveCapacity(n)
        c.seqOffsets.reserveCapacity(n)
        c.offsets.reserveCapacity(n + 1)
        var prev: Int64 = 0
        for _ in 0..<n {
            guard let d = reader.nextSigned() else { throw StorageError(.corrupt, "truncated timestamps") }
            prev &+= d
            c.timestamps.append(prev)
        }
        prev = 0
        for _ in 0..<n {
            guard let d = reader.nextSigned() else { throw StorageError(.corrupt, "truncated ingestion times") }
            prev &+= d
            c.ingestionTimes.append(prev)
        }
        prev = -1
        for _ in 0..<n {
            guard let d = reader.nextSigned() else { throw StorageError(.corrupt, "truncated sequence numbers") }
            prev &+= d
            c.seqOffsets.append(prev)
        }
        var lengths: [Int] = []
        lengths.reserveCapacity(n)
        for _ in 0..<n {
            guard let len = reader.next(), len <= UInt64(payload.count) else { throw StorageError(.corrupt, "truncated message lengths") }
            lengths.append(Int(len))
        }
        // Messages stay in the payload buffer: offsets point past the varint columns.
        var end = reader.position
        c.offsets = [end]
        for len in lengths {
            end += len
            c.offsets.append(end)
        }
        guard end == payload.count else { throw StorageError(.corrupt, "message bytes do not match lengths") }
        c.bytes = payload
        return c
    }

    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    private static func putUInt32(_ v: UInt32, into out: inout [UInt8], at i: Int) {
        out[i] = UInt8(truncatingIfNeeded: v)
        out[i + 1] = UInt8(truncatingIfNeeded: v >> 8)
        out[i + 2] = UInt8(truncatingIfNeeded: v >> 16)
        out[i + 3] = UInt8(truncatingIfNeeded: v >> 24)
    }

    private static func readUInt32(_ b: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
