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
}
