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

    /// SplitMix64: the same pseudo-random sequence on every run.
    struct Numbers {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func agreesOnManyDecimals() {
        var numbers = Numbers()
        func next() -> UInt64 { numbers.next() }
        for _ in 0..<100_000 {
            let digits = String(next() % (1 << 54))
            let point = Int(next() % UInt64(digits.count))
            var text = point == 0 ? digits : String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if next() % 4 == 0 { text = "-" + text }
            guard let expected = Double(text) else { continue }
            #expect(read(text)?.bitPattern == expected.bitPattern, "\(text)")
        }
    }

    /// Digits beyond 2^53 (17 to 19 of them, as timestamps with sub-microsecond digits have), fractions of up to 27
    /// digits with leading zeros, and integers exactly halfway between two doubles (ties go to the even one).
    @Test func agreesOnWideDecimals() {
        var numbers = Numbers()
        var texts: [String] = []
        for _ in 0..<100_000 {
            let digits = String(numbers.next() % 10_000_000_000_000_000_000)
            let point = Int(numbers.next() % UInt64(digits.count))
            texts.append(point == 0 ? digits : String(digits.prefix(point)) + "." + String(digits.dropFirst(point)))
        }
        for _ in 0..<20_000 {
            let digits = String(numbers.next() % 10_000_000_000_000_000_000)
            let zeros = Int(numbers.next() % UInt64(28 - min(digits.count, 27)))
            texts.append("0." + String(repeating: "0", count: zeros) + digits)
        }
        for _ in 0..<20_000 {
            // 2^53 + odd, 2^54 + 2 mod 4, 2^55 + 4 mod 8: halfway between neighbouring doubles.
            let shift = numbers.next() % 3
            let n = (UInt64(1) << (53 + shift)) + (numbers.next() % (UInt64(1) << 40)) << (shift + 1) + (UInt64(1) << shift)
            texts.append(String(n))
            texts.append("-" + String(n))
        }
        texts += ["1764222000.12345678", "1764222000.123456789", "17642220001234567.89", "0.000000000000000000000000001",
                  "9223372036854775807", "18446744073709551615", "9999999999999999999", "0.9999999999999999999"]
        var disagreements = 0
        for text in texts where read(text)?.bitPattern != Double(text)?.bitPattern {
            disagreements += 1
            if disagreements <= 5 { Issue.record("\(text): \(String(describing: read(text))) instead of \(String(describing: Double(text)))") }
        }
        #expect(disagreements == 0)
    }
}
