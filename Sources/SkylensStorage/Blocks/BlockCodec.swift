import CDeflate
import CZstd
import SkylensCore

/// Encodes and decodes the compressed event blocks of the log store. The byte layout is specified in
/// `Sources/SkylensStorage/README.md`; keep the two in step.
///
/// ```
/// 0      4        5          6                 10            14
/// +------+--------+----------+-----------------+-------------+-----------------------+
/// | SKLB | ver=1  | enc      | raw length u32  | CRC-32 u32  | compressed payload    |
/// +------+--------+----------+-----------------+-------------+-----------------------+
/// payload = count | ts deltas | ingestion deltas | seq deltas | message lengths | messages
/// enc = 1: zlib (log blocks), 2: zstd (trace blocks)
/// ```
package enum BlockCodec {
    package static let magic: [UInt8] = Array("SKLB".utf8)
    package static let version: UInt8 = 1
    package static let encodingZlib: UInt8 = 1
    package static let encodingZstd: UInt8 = 2
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

    /// How a block's payload is compressed.
    package enum Compression: Sendable {
        /// A zlib stream written by libdeflate, which takes about half of zlib's time at a level and writes slightly
        /// smaller streams, readable by any zlib (log blocks).
        case zlib(level: Int32)
        /// A zstd frame: at level 1 about a third of libdeflate's level-1 time on X-Ray documents, and smaller (trace
        /// blocks, compressed on the ingest path).
        case zstd(level: Int32)
    }

    /// Encodes `columns` into a block whose payload is a zlib stream at `level`.
    package static func encode(_ c: Columns, level: Int32) throws(StorageError) -> EncodedBlockPayload {
        try encode(c, compression: .zlib(level: level))
    }

    /// Encodes `columns` into a block. The payload (column header, then messages) is compressed as one stream.
    package static func encode(_ c: Columns, compression: Compression) throws(StorageError) -> EncodedBlockPayload {
        let messages = c.offsets[0]..<c.offsets[c.count]
        var payload: [UInt8] = []
        payload.reserveCapacity(c.count * 8 + 8 + messages.count)
        Varint.put(UInt64(c.count), into: &payload)
        var prev: Int64 = 0
        for t in c.timestamps { Varint.putSigned(t &- prev, into: &payload); prev = t }
        prev = 0
        for t in c.ingestionTimes { Varint.putSigned(t &- prev, into: &payload); prev = t }
        prev = -1
        for s in c.seqOffsets { Varint.putSigned(s &- prev, into: &payload); prev = s }
        for i in 0..<c.count { Varint.put(UInt64(c.offsets[i + 1] - c.offsets[i]), into: &payload) }
        c.bytes.withUnsafeBufferPointer { payload.append(contentsOf: UnsafeBufferPointer(rebasing: $0[messages])) }
        guard payload.count <= Int(UInt32.max) else { throw StorageError(.corrupt, "block too large") }

        var out: [UInt8]
        let encoding: UInt8
        switch compression {
        case .zlib(let level):
            out = try deflate(payload, level: level)
            encoding = encodingZlib
        case .zstd(let level):
            out = try zstd(payload, level: level)
            encoding = encodingZstd
        }
        for (i, b) in magic.enumerated() { out[i] = b }
        out[4] = version
        out[5] = encoding
        putUInt32(UInt32(payload.count), into: &out, at: 6)
        putUInt32(checksum(payload), into: &out, at: 10)
        return EncodedBlockPayload(bytes: out, rawBytes: payload.count)
    }

    /// `payload` as a zlib stream after `headerSize` bytes left for the header.
    private static func deflate(_ payload: [UInt8], level: Int32) throws(StorageError) -> [UInt8] {
        try deflaters.with(level) { (compressor) throws(StorageError) in
            try framed(payload, bound: libdeflate_zlib_compress_bound(compressor, payload.count)) { src, dst, capacity in
                let written = libdeflate_zlib_compress(compressor, src.baseAddress, src.count, dst, capacity)
                return written == 0 ? nil : written
            }
        }
    }

    /// `payload` as a zstd frame after `headerSize` bytes left for the header.
    private static func zstd(_ payload: [UInt8], level: Int32) throws(StorageError) -> [UInt8] {
        try zstdContexts.with(0) { (context) throws(StorageError) in
            try framed(payload, bound: ZSTD_compressBound(payload.count)) { src, dst, capacity in
                let written = ZSTD_compressCCtx(context, dst, capacity, src.baseAddress, src.count, level)
                return ZSTD_isError(written) != 0 ? nil : written
            }
        }
    }

    /// `payload` compressed by `compress` (given the payload, where to write and the room there; it returns the
    /// bytes written, nil when it failed) into a new array after `headerSize` bytes left for the header.
    private static func framed(_ payload: [UInt8], bound: Int,
                               _ compress: (UnsafeBufferPointer<UInt8>, UnsafeMutableRawPointer, Int) -> Int?) throws(StorageError) -> [UInt8] {
        var written: Int?
        let out = [UInt8](unsafeUninitializedCapacity: headerSize + bound) { dst, initialized in
            written = payload.withUnsafeBufferPointer { compress($0, UnsafeMutableRawPointer(dst.baseAddress! + headerSize), bound) }
            initialized = written.map { headerSize + $0 } ?? 0
        }
        guard written != nil else { throw StorageError(.corrupt, "compression failed") }
        return out
    }

    /// Compression contexts, reused: each holds its tables and may be used by one thread at a time; up to four of a
    /// kind (a key: libdeflate's are made for a level, zstd's take it with each call) are kept idle.
    private final class ContextPool: Sendable {
        private let idle = LockedState<[Int32: [OpaquePointer]]>([:])
        private let make: @Sendable (Int32) -> OpaquePointer?
        private let free: @Sendable (OpaquePointer) -> Void

        init(make: @escaping @Sendable (Int32) -> OpaquePointer?, free: @escaping @Sendable (OpaquePointer) -> Void) {
            self.make = make
            self.free = free
        }

        /// `body` with a context of kind `key`, taken from the idle ones or made, and given back after.
        func with<T>(_ key: Int32, _ body: (OpaquePointer) throws(StorageError) -> T) throws(StorageError) -> T {
            guard let context = idle.withLock({ $0[key]?.popLast() }) ?? make(key) else {
                throw StorageError(.corrupt, "cannot allocate a compression context (\(key))")
            }
            defer {
                let kept = idle.withLock { pools in
                    guard pools[key, default: []].count < 4 else { return false }
                    pools[key, default: []].append(context)
                    return true
                }
                if !kept { free(context) }
            }
            return try body(context)
        }
    }

    /// libdeflate compressors, by level.
    private static let deflaters = ContextPool(make: { libdeflate_alloc_compressor($0) }, free: { libdeflate_free_compressor($0) })
    /// zstd compression contexts (one kind: the level is given with each call).
    private static let zstdContexts = ContextPool(make: { _ in ZSTD_createCCtx() }, free: { ZSTD_freeCCtx($0) })

    /// Decodes a block, verifying its header and checksum.
    package static func decode(_ block: UnsafeRawBufferPointer) throws(StorageError) -> Columns {
        guard block.count >= headerSize, Array(block[0..<4]) == magic else {
            throw StorageError(.corrupt, "not a Skylens block")
        }
        guard block[4] == version, block[5] == encodingZlib || block[5] == encodingZstd else {
            throw StorageError(.corrupt, "unsupported block version \(block[4]) or encoding \(block[5])")
        }
        let rawLength = Int(readUInt32(block, at: 6))
        let expectedCRC = readUInt32(block, at: 10)
        let compressed = UnsafeRawBufferPointer(rebasing: block[headerSize...])
        var failure: String?
        let payload = [UInt8](unsafeUninitializedCapacity: rawLength) { dst, initialized in
            if block[5] == encodingZstd {
                let n = ZSTD_decompress(dst.baseAddress, rawLength, compressed.baseAddress, compressed.count)
                if ZSTD_isError(n) != 0 || n != rawLength {
                    failure = ZSTD_isError(n) != 0 ? String(cString: ZSTD_getErrorName(n)) : "\(n) bytes of \(rawLength)"
                }
            } else {
                let decompressor = libdeflate_alloc_decompressor()
                defer { libdeflate_free_decompressor(decompressor) }
                let result = libdeflate_zlib_decompress(decompressor, compressed.baseAddress, compressed.count, dst.baseAddress, rawLength, nil)
                if result != LIBDEFLATE_SUCCESS { failure = "\(result.rawValue)" }
            }
            initialized = failure == nil ? rawLength : 0
        }
        if let failure { throw StorageError(.corrupt, "block decompression failed (\(failure))") }
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

    /// CRC-32 (zlib's polynomial and result).
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { libdeflate_crc32(0, $0.baseAddress, $0.count) }
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
