import Foundation
import Testing
@testable import SkylensCore

/// The `publish` and `put-validation` cases of `Conformance/metric-filters.json`, run against the core's metric
/// filters and a per-minute aggregation of what they publish.
struct MetricFilterConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Transformation: Decodable, Sendable {
            var metricName: String
            var metricNamespace: String
            var metricValue: String
            var defaultValue: Double?
            var dimensions: [String: String]?
            var unit: String?
        }
        struct Event: Decodable, Sendable {
            var timestamp_ms: Int64
            var message: String
        }
        struct Datapoint: Decodable, Sendable {
            var metricNamespace: String
            var metricName: String
            var dimensions: [String: String]
            var minute_start_ms: Int64
            var sum: Double
            var sampleCount: Double
            var minimum: Double?
            var maximum: Double?
            var unit: String?
        }
        struct Expect: Decodable, Sendable {
            var datapoints: [Datapoint]
            var exhaustive: Bool?
        }
        struct ExpectError: Decodable, Sendable {
            var code: String?
            var code_any_of: [String]?
        }

        var id: String
        var kind: String
        var pattern: String
        var metricTransformations: [Transformation]
        var events: [Event]
        var order: String?
        var precondition: String?
        var expect: Expect?
        var expect_error: ExpectError?
        var testDescription: String { "\(id) \(pattern.prefix(60))" }

        func transformation() -> MetricFilter.Transformation {
            let t = metricTransformations[0]
            return .init(metricName: t.metricName, metricNamespace: t.metricNamespace, metricValue: t.metricValue,
                         defaultValue: t.defaultValue, dimensions: t.dimensions ?? [:],
                         unit: t.unit.flatMap(MetricUnit.init(rawValue:)) ?? .none)
        }
    }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "metric-filters", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let all = try? JSONDecoder().decode([Case].self, from: data)
        else { return [] }
        return all.filter { $0.kind == "publish" || $0.kind == "put-validation" }
    }()

    @Test func corpusIsLoaded() { #expect(Self.cases.count >= 20) }

    /// Ingest-then-create (MF-032) is a property of the ingest pipeline, not of the filter: it is checked where
    /// filters are attached to a log group.
    @Test(arguments: cases.filter { $0.kind == "publish" && $0.order == nil })
    func publish(_ c: Case) throws {
        let filter = try MetricFilter(name: "f", pattern: c.pattern, transformation: c.transformation())
        struct Key: Hashable { var dims: [String: String]; var minute: Int64 }
        var got: [Key: StatisticSet] = [:]
        for event in c.events {
            guard let datum = filter.apply(message: event.message, timestamp: event.timestamp_ms) else { continue }
            #expect(datum.unit == c.transformation().unit)
            let key = Key(dims: datum.dimensions, minute: datum.timestamp - datum.timestamp % 60_000)
            for v in datum.values { got[key, default: StatisticSet()].add(v) }
        }
        // A batch of the same events through the extractor (prefilters, per-filter tallies) publishes the same values.
        var single: [Key: [Double: Double]] = [:]
        var batched: [Key: [Double: Double]] = [:]
        for event in c.events {
            guard let datum = filter.apply(message: event.message, timestamp: event.timestamp_ms) else { continue }
            for v in datum.values { single[Key(dims: datum.dimensions, minute: datum.timestamp - datum.timestamp % 60_000), default: [:]][v, default: 0] += 1 }
        }
        let t = c.transformation()
        let batch = LogBatch(c.events.map { ($0.timestamp_ms, $0.message) })
        for datum in LogMetricExtractor.extract(group: "/conformance", filters: [filter], events: batch).datums
        where datum.namespace == t.metricNamespace && datum.name == t.metricName {
            #expect(datum.unit == t.unit)
            for (k, v) in datum.values.enumerated() {
                batched[Key(dims: datum.dimensions, minute: datum.timestamp - datum.timestamp % 60_000), default: [:]][v, default: 0] += datum.counts?[k] ?? 1
            }
        }
        #expect(batched == single, "\(c.id): the batch extractor disagrees with the filter applied per event")
        let expected = try #require(c.expect).datapoints
        for dp in expected {
            let stats = got[Key(dims: dp.dimensions, minute: dp.minute_start_ms)]
            #expect(stats?.sum == dp.sum, "\(c.id) sum at \(dp.minute_start_ms)")
            #expect(stats?.sampleCount == dp.sampleCount, "\(c.id) sampleCount at \(dp.minute_start_ms)")
            if let min = dp.minimum { #expect(stats?.minimum == min, "\(c.id) minimum") }
            if let max = dp.maximum { #expect(stats?.maximum == max, "\(c.id) maximum") }
            if let unit = dp.unit { #expect(c.transformation().unit.rawValue == unit) }
        }
        if c.expect?.exhaustive == true {
            #expect(got.count == expected.count, "\(c.id): no other datapoints")
        }
    }

    @Test(arguments: cases.filter { $0.kind == "put-validation" })
    func putValidation(_ c: Case) throws {
        var set = MetricFilterSet()
        if let pre = c.precondition {
            let regex = pre.contains("regex")
            let count = Int(pre.prefix { $0.isNumber }) ?? 0
            for i in 0..<count {
                try set.put(MetricFilter(name: "pre-\(i)", pattern: regex ? "%ERR\(i)%" : "TERM\(i)", transformation: c.transformation()))
            }
        }
        let codes = c.expect_error?.code_any_of ?? [c.expect_error?.code].compactMap { $0 }
        do {
            try set.put(MetricFilter(name: "candidate", pattern: c.pattern, transformation: c.transformation()))
            Issue.record("\(c.id) must be rejected with \(codes)")
        } catch {
            let code = error.code == .limitExceeded ? "LimitExceededException" : "InvalidParameterException"
            #expect(codes.contains(code), "\(c.id): got \(code) \(error.message)")
        }
    }

    @Test func replacingAFilterAtTheRegexQuotaSucceedsAndDeleteFreesASlot() throws {
        var set = MetricFilterSet()
        let t = MetricFilter.Transformation(metricName: "M", metricNamespace: "N", metricValue: "1")
        for i in 0..<5 { try set.put(MetricFilter(name: "r\(i)", pattern: "%ERR\(i)%", transformation: t)) }
        try set.put(MetricFilter(name: "r0", pattern: "%OTHER%", transformation: t))
        #expect(throws: LogsError.self) { try set.put(MetricFilter(name: "r5", pattern: "%X%", transformation: t)) }
        try set.delete("r1")
        try set.put(MetricFilter(name: "r5", pattern: "%X%", transformation: t))
        #expect(set.filters.count == 5)
        #expect(throws: LogsError.self) { try set.delete("nope") }
    }
}
