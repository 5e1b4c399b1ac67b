import Foundation
import Testing
@testable import SkylensCore

/// The `test-metric-filter` cases of `Conformance/metric-filters.json`: a pattern's matches over sample messages,
/// with 1-based event numbers and the extracted values, as TestMetricFilter returns them.
struct TestMetricFilterConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Request: Decodable, Sendable {
            var filterPattern: String
            var logEventMessages: [String]
        }
        struct Match: Decodable, Sendable {
            var eventNumber: Int
            var eventMessage: String
            var extractedValues: [String: String]
        }
        struct Response: Decodable, Sendable { var matches: [Match] }

        var id: String
        var kind: String
        var request: Request?
        var expect_response: Response?
        var confidence: String
        var testDescription: String { "\(id) \(request?.filterPattern ?? "")" }
    }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "metric-filters", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let all = try? JSONDecoder().decode([Case].self, from: data)
        else { return [] }
        return all.filter { $0.kind == "test-metric-filter" }
    }()

    @Test func corpusIsLoaded() { #expect(Self.cases.count >= 5) }

    @Test(arguments: cases.filter { $0.expect_response != nil })
    func matchesAndExtractedValues(_ c: Case) throws {
        let request = try #require(c.request)
        let matcher = try FilterPattern.parse(request.filterPattern).compile()
        var got: [(Int, String, [String: String])] = []
        for (i, message) in request.logEventMessages.enumerated() {
            let outcome = matcher.evaluate(message)
            if outcome.matched {
                got.append((i + 1, message, Dictionary(outcome.extracted.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })))
            }
        }
        let expected = try #require(c.expect_response).matches
        #expect(got.map(\.0) == expected.map(\.eventNumber), "\(c.id)")
        #expect(got.map(\.1) == expected.map(\.eventMessage), "\(c.id)")
        #expect(got.map(\.2) == expected.map(\.extractedValues), "\(c.id)")
    }
}
