import Testing
@testable import SkylensCore

/// Property tests: thousands of random and mutated patterns through the parser and the matcher.
/// Nothing may crash or hang; every rejection carries a position inside the pattern.
struct FilterPatternFuzzTests {
    /// SplitMix64: a small deterministic generator, so a failure reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let tokens = [
        "{", "}", "[", "]", "(", ")", "$", ".", "*", "%", "\"", "=", "!=", "<", "<=", ">", ">=", "&&", "||", "?", "-",
        "...", ",", " ", " ", "\t", "\\", "IS", "NULL", "NOT", "EXISTS", "TRUE", "FALSE", "a", "b", "level", "ERROR",
        "1", "2.5", "1e3", "-7", "é", "[*]", "[0]", "$.a", "$.b.c", "%ab+c%", "\"x y\"", "^", "|", "{2,3}", "\\d", ":",
    ]

    static let events: [[UInt8]] = {
        var events = [
            "", " ", "ERROR", "ERROR 500 request", "{\"a\":1,\"b\":{\"c\":\"x y\"},\"level\":\"ERROR\"}", "{\"a\":[1,null,{\"b\":2}]}",
            "{broken", "[1,2]", "{\"a\":1,\"a\":2}", "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET / HTTP/1.0\" 404 1534",
            "\"unterminated [bracket", "a\tb\t\tc", "é 😀 ünïcode", String(repeating: "a", count: 2_000),
            "{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}",
        ].map { Array($0.utf8) }
        events.append([0xFF, 0xFE, 0x22, 0x7B, 0x80])  // not UTF-8
        events.append(Array(repeating: 0x20, count: 300))
        return events
    }()

    /// Returns whether the pattern was accepted.
    @discardableResult
    func check(_ text: String) -> Bool {
        do {
            let matcher = try FilterPattern.parse(text).compile()
            for event in Self.events {
                let fast = matcher.matches(event)
                let slow = event.withUnsafeBytes { matcher.evaluate($0) }
                #expect(fast == slow.matched, "matches and evaluate disagree on \(text)")
                #expect(slow.matched || slow.reason != nil, "a non-match explains itself: \(text)")
            }
            return true
        } catch {
            #expect(error.position >= 0 && error.position <= text.unicodeScalars.count, "position \(error.position) outside \(text)")
            #expect(!error.message.isEmpty)
            return false
        }
    }

    @Test func randomPatternsNeverCrashAndErrorsHavePositions() {
        var rng = Generator(state: 0x5EED)
        var accepted = 0
        for _ in 0..<4_000 {
            let count = Int.random(in: 1...12, using: &rng)
            if check((0..<count).map { _ in Self.tokens.randomElement(using: &rng)! }.joined()) { accepted += 1 }
        }
        // Both sides are exercised: some random patterns parse and run, most are rejected.
        #expect(accepted > 100)
        #expect(accepted < 3_900)
    }

    @Test func mutatedValidPatterns() throws {
        let seeds = [
            "{ $.level = \"ERROR\" && $.latency > 100 }", "[ip, user, ..., status = 4*, bytes > 1000]", "?ERROR ?WARN -DEBUG",
            "{ ($.a = 1 || $.b = %x+%) && $.c NOT EXISTS }", "%^\\d{3}-[a-z]+$%", "{ $.arr[*].id = * }", "\"quoted phrase\" term",
            "[w1 = ERROR || w1 = %WARN%, w2]", "{ $.v IS NULL || $.v IS TRUE }",
        ]
        for seed in seeds { _ = try FilterPattern.parse(seed) }
        var rng = Generator(state: 0xC0FFEE)
        let alphabet = Array("{}[]()$.*%\"=!<>&|?-, \\aZ09é_:".unicodeScalars)
        var accepted = 0
        defer { #expect(accepted > 400) }
        for _ in 0..<4_000 {
            var s = Array(seeds.randomElement(using: &rng)!.unicodeScalars)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0...s.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where at < s.count: s.remove(at: at)
                case 1 where at < s.count: s[at] = alphabet.randomElement(using: &rng)!
                default: s.insert(alphabet.randomElement(using: &rng)!, at: at)
                }
            }
            if check(String(String.UnicodeScalarView(s))) { accepted += 1 }
        }
    }

    @Test func pathologicalRegexesFinish() throws {
        let long = Array((String(repeating: "a", count: 3_000) + "!").utf8)
        for pattern in ["%a*a*a*a*a*a*a*b%", "%(a+)+b%", "%^a{0,1000}a{0,1000}b$%", "%.*.*.*x%"] {
            guard let matcher = try? FilterPattern.parse(pattern).compile() else { continue }
            #expect(!matcher.matches(long))
        }
    }

    @Test func rejectedPatternsAreNeverMatchAll() {
        for bad in ["ERR*", "{ $.a = null }", "{ $.a IS NOT NULL }", "{ $.a EXISTS }", "[a, a]", "%ERROR(?= 500)%", "\"open",
                    "{ $.items[*].* = 1 }", "{ $.arr[0:2] = 1 }", "{ $.v > \"Alpha\" }", "%%", "{ $.a = 1", "[a, b"] {
            #expect(throws: FilterPatternError.self, "\(bad)") { try FilterPattern.parse(bad) }
        }
    }
}
