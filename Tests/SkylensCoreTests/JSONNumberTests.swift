import Testing
@testable import SkylensCore

/// Numbers read by the scanner are the doubles `Double(String)` gives for the same text: plain decimals through
/// the exact fast path, everything else through `strtod`.
struct JSONNumberTests {
    func read(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            return try? scanner.readNumber()
        }
    }

    @Test(arguments: ["0", "-0", "1", "0.1", "0.30000000000000004", "1764222000.123456", "1764222000.1234567", "9007199254740992",
                      "9007199254740993", "90071992547409.93", "123.", "01.5", "007", "1e5", "-2.5E-3", "0.0000000000000000000001",
                      "12345678901234567890", "-1764222000.5", "4.35"])
    func agreesWithStandardConversion(_ text: String) {
        #expect(read(text)?.bitPattern == Double(text)?.bitPattern, "\(text)")
    }

    @Test func agreesOnManyDecimals() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<100_000 {
            let digits = String(next() % (1 << 54))
            let point = Int(next() % UInt64(digits.count))
            var text = point == 0 ? digits : String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if next() % 4 == 0 { text = "-" + text }
            guard let expected = Double(text) else { continue }
            #expect(read(text)?.bitPattern == expected.bitPattern, "\(text)")
        }
    }
}
