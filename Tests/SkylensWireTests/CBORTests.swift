import Testing
@testable import SkylensWire

struct CBORTests {
    @Test func roundTripsEveryKind() throws {
        let value = WireValue.map([
            ("s", .string("héllo")), ("i", .int(-1_000_000)), ("u", .int(1 << 40)), ("d", .double(2.5)), ("t", .bool(true)),
            ("n", .null), ("a", .array([.int(1), .string("x"), .array([])])), ("b", .bytes([0, 255])), ("ts", .timestamp(1_700_000_000.5)),
        ])
        #expect(try CBOR.decode(CBOR.encode(value)) == value)
    }

    @Test func readsRFCVectors() throws {
        // RFC 8949 Appendix A.
        #expect(try CBOR.decode([0x19, 0x03, 0xE8]) == .int(1000))
        #expect(try CBOR.decode([0x39, 0x03, 0xE7]) == .int(-1000))
        #expect(try CBOR.decode([0xF9, 0x3C, 0x00]) == .double(1.0))
        #expect(try CBOR.decode([0xFA, 0x47, 0xC3, 0x50, 0x00]) == .double(100_000.0))
        #expect(try CBOR.decode([0x62, 0x49, 0x45]) == .string("IE"))
        #expect(try CBOR.decode([0xC1, 0x1A, 0x51, 0x4B, 0x67, 0xB0]) == .timestamp(1_363_896_240))
        // Indefinite-length array [_ 1, [2, 3]] and map {_ "a": 1}.
        #expect(try CBOR.decode([0x9F, 0x01, 0x82, 0x02, 0x03, 0xFF]) == .array([.int(1), .array([.int(2), .int(3)])]))
        #expect(try CBOR.decode([0xBF, 0x61, 0x61, 0x01, 0xFF]) == .map([("a", .int(1))]))
        // Indefinite text string made of chunks.
        #expect(try CBOR.decode([0x7F, 0x62, 0x73, 0x74, 0x61, 0x72, 0xFF]) == .string("str"))
    }

    @Test(arguments: [[], [0x1C], [0x62, 0x41], [0x9F, 0x01], [0xA1, 0x01, 0x02], [0x01, 0x02], [0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]] as [[UInt8]])
    func rejectsMalformedInput(_ bytes: [UInt8]) {
        #expect(throws: CBOR.DecodingError.self) { try CBOR.decode(bytes) }
    }

    @Test func gzipInflates() throws {
        // gzip of "hello hello hello\n" (made with Python's gzip module).
        let gz: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57,
                           0xC8, 0x40, 0x90, 0x5C, 0x00, 0x3B, 0x7C, 0x8A, 0xDF, 0x12, 0x00, 0x00, 0x00]
        #expect(String(decoding: try Gzip.decompress(gz), as: UTF8.self) == "hello hello hello\n")
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress([1, 2, 3]) }
    }
}
