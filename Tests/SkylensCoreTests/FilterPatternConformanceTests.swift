import Foundation
import Testing
@testable import SkylensCore

/// The cases of `Conformance/filter-patterns.json` (copied from the shared conformance corpus; sources and evidence
/// classes in `Conformance/SOURCES.md`), run against the parser and the compiled matcher.
struct FilterPatternConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var id: String
        var category: String
        var pattern: String
        var events: [String]
        var expect_match: [Int]?
        var expect_error: String?
        var confidence: String
        var source: String?

        var testDescription: String { "\(id) \(pattern)" }

        /// JSON (`{`), space-delimited (`[`) and regex (`%`) patterns: not in the language yet.
        var isStructured: Bool {
            guard let first = pattern.trimmingCharacters(in: .whitespaces).first else { return false }
            return first == "{" || first == "[" || first == "%"
        }
    }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "filter-patterns", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let cases = try? JSONDecoder().decode([Case].self, from: data)
        else { return [] }
        return cases
    }()

    /// Known disagreements between the documentation and the service, with the reason we follow the case we do.
    static let documentedExceptions: [String: String] = [:]

    @Test func corpusIsLoaded() {
        #expect(Self.cases.count >= 70)
    }

    @Test(arguments: cases.filter { !$0.isStructured })
    func unstructuredPatterns(_ c: Case) throws {
        if c.expect_error != nil {
            #expect(throws: FilterPatternError.self, "\(c.id) must be rejected") { try FilterPattern.parse(c.pattern) }
            return
        }
        let matcher = try FilterPattern.parse(c.pattern).compile()
        let matched = c.events.indices.filter { matcher.matches(Array(c.events[$0].utf8)) }
        #expect(matched == c.expect_match, "\(c.id) (\(c.confidence))")
    }

    /// Until JSON, space-delimited and regex patterns land, every one of them is rejected with a position:
    /// never silently treated as a term or as match-all.
    @Test(arguments: cases.filter { $0.isStructured })
    func structuredPatternsAreRejectedNotMatchedAll(_ c: Case) {
        #expect(throws: FilterPatternError.self) { try FilterPattern.parse(c.pattern) }
    }
}
