import Testing
@testable import SkylensCore

struct FilterPatternTests {
    func matches(_ pattern: String, _ message: String) throws -> Bool {
        try FilterPattern.parse(pattern).compile().matches(Array(message.utf8))
    }

    @Test func termsAreCaseSensitiveSubstrings() throws {
        #expect(try matches("ERROR", "TERROR at line 3"))
        #expect(try !matches("ERROR", "error at line 3"))
    }

    /// The prefilters (a JSON key that must appear, a regex tried only where its leading literal occurs) never
    /// change an answer: escaped keys still match, and a literal seen twice is tried at both places.
    @Test func prefiltersKeepAnswers() throws {
        #expect(try matches(#"{ $.level = "ERROR" }"#, #"{"le\u0076el":"ERROR"}"#))
        #expect(try !matches(#"{ $.level = "ERROR" }"#, #"{"lvl":"ERROR"}"#))
        #expect(try matches(#"{ $.a NOT EXISTS || $.b = 1 }"#, #"{"c":1}"#))
        #expect(try matches(#"{ $.x.level = "E" && $.n > 1 }"#, #"{"x":{"level":"E"},"n":2}"#))
        #expect(try matches("%Payment[a-z]+%", "PaymentFailed then Paymentfailed"))
        #expect(try !matches("%Payment[a-z]+%", "PaymentFailed then PaymentX"))
        #expect(try matches("%ab+c%", "xxabbbc"))
    }

    /// A JSON pattern's prefilter keeps every message that matches, however the document escapes the value or key:
    /// `\uXXXX` for letters (the prefilter then looks for `\u`), short escapes for `/`, `"` and controls (then any
    /// backslash). Messages with other escapes only are left out when the needle is absent.
    @Test func jsonPrefilterKeepsEscapedMatches() throws {
        let cases: [(pattern: String, message: String, matches: Bool)] = [
            (#"{ $.level = "CRITICAL" }"#, #"{"level":"\u0043RITICAL"}"#, true),
            (#"{ $.level = "CRITICAL" }"#, #"{"le\u0076el":"CRITICAL"}"#, true),
            (#"{ $.level = "CRITICAL" }"#, #"{"level":"INFO","msg":"line\nbreak \"quoted\""}"#, false),
            (#"{ $.path = "/api/users" }"#, #"{"path":"\/api\/users"}"#, true),
            (#"{ $.msg = "say \"hi\"" }"#, #"{"msg":"say \"hi\""}"#, true),
            (#"{ $.level = "CRIT*" }"#, #"{"level":"CRIT\u0049CAL"}"#, true),
            (#"{ $.duration_ms > 5000 }"#, #"{"duration_\u006ds":6000}"#, true),
        ]
        for c in cases {
            let matcher = try FilterPattern.parse(c.pattern).compile()
            let bytes = Array(c.message.utf8)
            let matched = bytes.withUnsafeBytes { matcher.matches($0) }
            #expect(matched == c.matches, "\(c.pattern) on \(c.message)")
            let needles = try #require(matcher.prefilter, "\(c.pattern)")
            let held = needles.contains { needle in bytes.withUnsafeBytes { ByteSearch.contains($0, needle) } }
            if matched { #expect(held, "\(c.pattern): the prefilter drops \(c.message)") }
        }
        // Escapes that cannot hide a letter do not make a message a candidate for a letters-only value.
        let critical = try FilterPattern.parse(#"{ $.level = "CRITICAL" }"#).compile()
        let plain = Array(#"{"level":"INFO","msg":"a\nb"}"#.utf8)
        #expect(!(critical.prefilter ?? []).contains { n in plain.withUnsafeBytes { ByteSearch.contains($0, n) } })
    }

    @Test func quotedPhraseKeepsOrderAndSpaces() throws {
        #expect(try matches("\"connection refused\"", "dial tcp: connection refused"))
        #expect(try !matches("\"connection refused\"", "refused connection"))
        #expect(try matches("\"say \\\"hi\\\"\"", "they say \"hi\" twice"))
    }

    @Test func optionalTermsAreIgnoredNextToRequiredOrExcluded() throws {
        #expect(try matches("?ERROR ?WARN", "WARN disk"))
        #expect(try !matches("?ERROR ?WARN REQUEST", "ERROR only"))
        #expect(try matches("?ERROR ?WARN REQUEST", "REQUEST only"))
        #expect(try matches("-DEBUG", "INFO x"))
        #expect(try !matches("ERROR -timeout", "ERROR timeout reached"))
    }

    @Test func emptyPatternMatchesEverything() throws {
        #expect(try matches("", ""))
        #expect(try matches("   ", "anything"))
        #expect(try FilterPattern.parse("").compile().matchesAll)
    }

    @Test func errorsCarryPositions() {
        do {
            _ = try FilterPattern.parse("REQUEST ERR*")
            Issue.record("an unquoted * must be rejected")
        } catch {
            #expect(error.position == 11)
            #expect(error.message.hasPrefix("Invalid character(s) in term 'ERR*'"))
        }
        #expect(throws: FilterPatternError.self) { try FilterPattern.parse("\"unterminated") }
        do {
            _ = try FilterPattern.parse("ok { $.a = 1 }")
            Issue.record("a brace inside an unstructured pattern must be rejected")
        } catch {
            #expect(error.position == 3)
        }
    }

    @Test func singleTermIsExposedForBufferSearch() throws {
        #expect(try FilterPattern.parse("ERROR").compile().singleRequiredTerm == Array("ERROR".utf8))
        #expect(try FilterPattern.parse("ERROR x").compile().singleRequiredTerm == nil)
    }

    @Test func byteSearchFindsFirstOccurrence() {
        let hay = Array("abcabcERRORxERROR".utf8)
        hay.withUnsafeBytes { #expect(ByteSearch.firstIndex($0, Array("ERROR".utf8)) == 6) }
        hay.withUnsafeBytes { #expect(ByteSearch.firstIndex($0, Array("nope".utf8)) == nil) }
    }

    /// The vectorised search agrees with a naive one for needles of 1 to 40 bytes (both sides of the 16-byte blocks
    /// and of the 32-byte switch to memmem) over haystacks of a small alphabet, so that near-misses are common.
    @Test func byteSearchAgreesWithNaiveSearch() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        func naive(_ h: [UInt8], _ n: [UInt8]) -> Int? {
            guard n.count <= h.count else { return nil }
            return (0...(h.count - n.count)).first { Array(h[$0..<$0 + n.count]) == n }
        }
        for _ in 0..<3_000 {
            let hay = (0..<next(120)).map { _ in UInt8(ascii: "a") + UInt8(next(3)) }
            let needle: [UInt8]
            if !hay.isEmpty, next(2) == 0 {
                let start = next(hay.count)
                needle = Array(hay[start..<min(hay.count, start + 1 + next(40))])
            } else {
                needle = (0..<1 + next(40)).map { _ in UInt8(ascii: "a") + UInt8(next(3)) }
            }
            let found = hay.withUnsafeBytes { ByteSearch.firstIndex($0, needle) }
            #expect(found == naive(hay, needle), "\(String(decoding: needle, as: UTF8.self)) in \(String(decoding: hay, as: UTF8.self))")
        }
    }

    /// A batch search reports each message holding the needle once, in order, and never a hit across two messages.
    @Test func batchSearchMapsHitsToMessages() {
        let messages = ["xxERR", "ORxx", "ERROR ERROR", "", "none", "ERROR"]
        var bytes: [UInt8] = []
        var offsets = [0]
        for m in messages {
            bytes += Array(m.utf8)
            offsets.append(bytes.count)
        }
        var found: [Int] = []
        bytes.withUnsafeBytes { buffer in
            ByteSearch.forEachMessage(containing: Array("ERROR".utf8), in: buffer, offsets: offsets) { found.append($0) }
        }
        #expect(found == [2, 5])
    }
}
