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
        var expect_extracted: [Extracted]?

        var testDescription: String { "\(id) \(pattern)" }
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

    struct Extracted: Decodable, Sendable {
        var event: Int
        var values: [String: String]
    }

    @Test(arguments: cases)
    func pattern(_ c: Case) throws {
        if c.expect_error != nil {
            #expect(throws: FilterPatternError.self, "\(c.id) must be rejected") { try FilterPattern.parse(c.pattern) }
            return
        }
        let matcher = try FilterPattern.parse(c.pattern).compile()
        let matched = c.events.indices.filter { matcher.matches(Array(c.events[$0].utf8)) }
        #expect(matched == c.expect_match, "\(c.id) (\(c.confidence))")
        // The slow path (evaluate) agrees with the fast path on every event.
        let evaluated = c.events.indices.filter { matcher.evaluate(c.events[$0]).matched }
        #expect(evaluated == matched, "\(c.id): evaluate and matches disagree")
        // The prefilter is sound: every matched event holds one of its needles; when exact, holding one is matching.
        if let needles = matcher.prefilter {
            let holding = c.events.indices.filter { i in
                Array(c.events[i].utf8).withUnsafeBytes { m in needles.contains { ByteSearch.contains(m, $0) } }
            }
            #expect(Set(matched).isSubset(of: holding), "\(c.id): the prefilter \(needles.map { String(decoding: $0, as: UTF8.self) }) drops a match")
            if matcher.prefilterIsExact { #expect(holding == matched, "\(c.id): an exact prefilter differs from the pattern") }
        }
        for expected in c.expect_extracted ?? [] {
            let outcome = matcher.evaluate(c.events[expected.event])
            let values = Dictionary(outcome.extracted.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            #expect(values == expected.values, "\(c.id) event \(expected.event)")
        }
    }
}
