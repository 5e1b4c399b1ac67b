import CZlib
import Testing
@testable import SkylensCore
@testable import SkylensStorage

struct BlockCodecTests {
    /// Log blocks are zlib streams, trace blocks zstd frames: both behind the same header, both decoded by `decode`.
    static let compressions: [BlockCodec.Compression] = [.zlib(level: 6), .zlib(level: 1), .zstd(level: 1), .zstd(level: 3)]

    @Test(arguments: compressions) func roundTripsEveryColumn(_ compression: BlockCodec.Compression) throws {
        var c = BlockCodec.Columns()
        let messages = ["START RequestId: 1", "", "é 😀 unicode", String(repeating: "x", count: 70_000)]
        for (i, m) in messages.enumerated() {
            c.timestamps.append(1_714_521_600_000 + Int64(i * 7) - (i == 2 ? 100 : 0))
            c.ingestionTimes.append(1_714_521_601_000 + Int64(i))
            c.seqOffsets.append(Int64(i * 3))
            c.bytes.append(contentsOf: m.utf8)
            c.offsets.append(c.bytes.count)
        }
        let block = try BlockCodec.encode(c, compression: compression)
        let d = try block.bytes.withUnsafeBytes { try BlockCodec.decode($0) }
        #expect(d.timestamps == c.timestamps)
        #expect(d.ingestionTimes == c.ingestionTimes)
        #expect(d.seqOffsets == c.seqOffsets)
        for i in 0..<messages.count {
            #expect(String(decoding: d.bytes[d.offsets[i]..<d.offsets[i + 1]], as: UTF8.self) == messages[i])
        }
        #expect(Array(block.bytes[0..<4]) == Array("SKLB".utf8))
        #expect(block.bytes.count < block.rawBytes)
        // The encoding byte names the compression; a zstd block's payload starts with the zstd frame's magic number.
        switch compression {
        case .zlib: #expect(block.bytes[5] == BlockCodec.encodingZlib)
        case .zstd:
            #expect(block.bytes[5] == BlockCodec.encodingZstd)
            #expect(Array(block.bytes[BlockCodec.headerSize..<BlockCodec.headerSize + 4]) == [0x28, 0xB5, 0x2F, 0xFD])
        }
    }

    /// Blocks are zlib streams whichever library writes them: a block written now inflates with zlib, and a block
    /// that zlib wrote (every block stored before libdeflate) decodes.
    @Test func blocksAreZlibStreamsBothWays() throws {
        let batch = LogBatch((0..<500).map { (Int64($0), "REPORT RequestId: \($0) Duration: \($0 % 97).5 ms") })
        let block = try BlockCodec.encode(batch, ingestionTime: 9, level: 6)
        var inflated = [UInt8](repeating: 0, count: block.rawBytes)
        var length = uLong(block.rawBytes)
        let status = block.bytes.withUnsafeBufferPointer { b in
            uncompress(&inflated, &length, b.baseAddress! + BlockCodec.headerSize, uLong(b.count - BlockCodec.headerSize))
        }
        #expect(status == Z_OK && Int(length) == block.rawBytes)
        #expect(BlockCodec.checksum(inflated) == UInt32(crc32(0, inflated, uInt(inflated.count))))

        // The same payload as zlib compresses it, behind the same header.
        var deflated = [UInt8](repeating: 0, count: Int(compressBound(uLong(inflated.count))))
        var deflatedLength = uLong(deflated.count)
        #expect(compress2(&deflated, &deflatedLength, inflated, uLong(inflated.count), 6) == Z_OK)
        let zlibBlock = Array(block.bytes[0..<BlockCodec.headerSize]) + deflated[0..<Int(deflatedLength)]
        let decoded = try zlibBlock.withUnsafeBytes { try BlockCodec.decode($0) }
        #expect(decoded.count == 500)
        #expect(String(decoding: decoded.bytes[decoded.offsets[7]..<decoded.offsets[8]], as: UTF8.self) == "REPORT RequestId: 7 Duration: 7.5 ms")
    }

    @Test(arguments: compressions) func detectsCorruption(_ compression: BlockCodec.Compression) throws {
        var c = BlockCodec.Columns()
        for (i, m) in ["hello", "world"].enumerated() {
            c.timestamps.append(Int64(i))
            c.ingestionTimes.append(3)
            c.seqOffsets.append(Int64(i))
            c.bytes.append(contentsOf: m.utf8)
            c.offsets.append(c.bytes.count)
        }
        let block = try BlockCodec.encode(c, compression: compression)
        var flipped = block.bytes
        flipped[flipped.count - 3] ^= 0xFF
        #expect(throws: StorageError.self) { try flipped.withUnsafeBytes { try BlockCodec.decode($0) } }
        var badCRC = block.bytes
        badCRC[10] ^= 0x01
        #expect(throws: StorageError.self) { try badCRC.withUnsafeBytes { try BlockCodec.decode($0) } }
        var unknownEncoding = block.bytes
        unknownEncoding[5] = 9
        #expect(throws: StorageError.self) { try unknownEncoding.withUnsafeBytes { try BlockCodec.decode($0) } }
        // A block read with the other encoding's decompressor fails instead of yielding bytes.
        var swapped = block.bytes
        swapped[5] = swapped[5] == BlockCodec.encodingZlib ? BlockCodec.encodingZstd : BlockCodec.encodingZlib
        #expect(throws: StorageError.self) { try swapped.withUnsafeBytes { try BlockCodec.decode($0) } }
        var badMagic = block.bytes
        badMagic[0] = 0
        #expect(throws: StorageError.self) { try badMagic.withUnsafeBytes { try BlockCodec.decode($0) } }
        #expect(throws: StorageError.self) { try [UInt8](repeating: 0, count: 5).withUnsafeBytes { try BlockCodec.decode($0) } }
    }

    @Test func varintsRoundTripExtremes() {
        var out: [UInt8] = []
        let values: [Int64] = [0, 1, -1, 63, -64, 1 << 40, Int64.max, Int64.min]
        for v in values { Varint.putSigned(v, into: &out) }
        var r = Varint.Reader(out)
        for v in values { #expect(r.nextSigned() == v) }
        #expect(r.next() == nil)
    }
}
