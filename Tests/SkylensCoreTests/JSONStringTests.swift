import Testing
@testable import SkylensCore

/// Strings are scanned eight bytes at a time up to the first byte that ends a plain run (a quote, a backslash, a
/// control character): wherever that byte falls in a word, the string reads as it does byte by byte.
struct JSONStringTests {
    func read(_ bytes: [UInt8]) throws -> String {
        try bytes.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            let s = try scanner.readString()
            try scanner.expectEnd()
            return s
        }
    }

    @Test func theFirstByteEndingAPlainRunIsMarked() {
        let plain = UInt64(0x61) &* 0x0101_0101_0101_0101
        for value in 0...255 {
            let b = UInt8(value)
            let ends = b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20
            for i in 0..<8 {
                let word = plain & ~(UInt64(0xFF) << (8 * i)) | UInt64(b) << (8 * i)
                let marks = JSONScanner.endsPlainRun(word)
                if ends {
                    #expect(marks.trailingZeroBitCount / 8 == i, "byte \(value) at \(i)")
                } else {
                    #expect(marks == 0, "byte \(value) at \(i)")
                }
                // A later byte that ends a run does not hide this one.
                if ends, i < 7 {
                    let two = word & ~(UInt64(0xFF) << (8 * 7)) | UInt64(0x22) << 56
                    #expect(JSONScanner.endsPlainRun(two).trailingZeroBitCount / 8 == i, "byte \(value) at \(i), quote at 7")
                }
            }
        }
    }

    @Test func stringsReadAlikeWhereverTheirSpecialBytesFall() throws {
        // Escapes and multi-byte characters (bytes above 0x7F are plain) at every offset of strings up to three words.
        let specials: [(json: [UInt8], text: String)] = [
            (Array(#"\""#.utf8), "\""), (Array(#"\\"#.utf8), "\\"), (Array(#"\n"#.utf8), "\n"), (Array(#"\u00e9"#.utf8), "é"),
            (Array("é".utf8), "é"), (Array("€".utf8), "€"), (Array("😀".utf8), "😀"), (Array("".utf8), ""),
        ]
        for length in 0...24 {
            for k in 0...length {
                for special in specials {
                    let prefix = String(repeating: "a", count: k), suffix = String(repeating: "b", count: length - k)
                    let json = [UInt8(ascii: "\"")] + Array(prefix.utf8) + special.json + Array(suffix.utf8) + [UInt8(ascii: "\"")]
                    #expect(try read(json) == prefix + special.text + suffix)
                }
                // A raw control character or no closing quote is an error wherever it falls.
                let raw = [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: k) + [0x01]
                    + Array(repeating: UInt8(ascii: "b"), count: length - k) + [UInt8(ascii: "\"")]
                #expect(throws: JSONScanner.SyntaxError.self) { try read(raw) }
                let open = [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: length)
                #expect(throws: JSONScanner.SyntaxError.self) { try read(open) }
            }
        }
    }
}
