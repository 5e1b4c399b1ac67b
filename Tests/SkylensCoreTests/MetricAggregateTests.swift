import Testing
@testable import SkylensCore

struct MetricAggregateTests {
    @Test func sketchPercentilesAreWithinOnePercent() {
        var sketch = QuantileSketch()
        for v in 1...10_000 { sketch.add(Double(v)) }
        for p in [50.0, 90, 99, 99.9] {
            let exact = p / 100 * 10_000
            let got = sketch.percentile(p) ?? 0
            #expect(abs(got - exact) / exact <= 0.011, "p\(p): \(got) vs \(exact)")
        }
        #expect(sketch.count == 10_000)
    }

    @Test func sketchMergesAndRoundTrips() throws {
        var a = QuantileSketch(), b = QuantileSketch()
        for v in stride(from: -50.0, through: 50, by: 0.5) { a.add(v) }
        for v in stride(from: 100.0, through: 200, by: 1) { b.add(v, count: 2) }
        a.merge(b)
        #expect(a.count == 201 + 202)
        let decoded = try #require(QuantileSketch(encoded: a.encoded))
        #expect(decoded == a)
        #expect(QuantileSketch(encoded: [9, 9, 9]) == nil)
        let median = try #require(a.percentile(50))
        #expect(median > 50 && median < 110)
        #expect((a.percentile(0) ?? 0) < -49)
    }

    @Test func aggregateStatistics() {
        var a = MetricAggregate()
        for v in [1.0, 2, 3, 4] { a.add(v) }
        #expect(a.value(.sampleCount) == 4)
        #expect(a.value(.sum) == 10)
        #expect(a.value(.average) == 2.5)
        #expect(a.value(.minimum) == 1)
        #expect(a.value(.maximum) == 4)
        #expect(MetricAggregate().value(.sum) == nil)
    }

    @Test(arguments: [("Average", true), ("p99", true), ("p99.9", true), ("p99.99", true), ("p99.999", false), ("p101", false),
                      ("average", false), ("P50", true), ("pxx", false)] as [(String, Bool)])
    func statisticNames(_ text: String, _ valid: Bool) {
        #expect((Statistic(text) != nil) == valid)
    }

    @Test func periodsAlignToTheEpoch() {
        #expect(MetricPeriod.isValid(60) && MetricPeriod.isValid(300) && MetricPeriod.isValid(1) && MetricPeriod.isValid(30))
        #expect(!MetricPeriod.isValid(90) && !MetricPeriod.isValid(0) && !MetricPeriod.isValid(20))
        #expect(MetricPeriod.start(of: 1_394_793_518_000, period: 60) == 1_394_793_480_000)
        #expect(MetricPeriod.start(of: 1_394_793_518_999, period: 1) == 1_394_793_518_000)
    }

    @Test func canonicalDimensionsRoundTrip() {
        let s = MetricSeries(namespace: "n", name: "m", dimensions: ["b": "x=y", "a": "1"])
        #expect(MetricSeries.dimensions(fromCanonical: s.canonicalDimensions) == s.dimensions)
        #expect(MetricSeries(namespace: "n", name: "m", dimensions: ["a": "1", "b": "x=y"]).canonicalDimensions == s.canonicalDimensions)
    }
}

struct DatumCoalescerTests {
    /// Coalescing changes how many datums reach the store, never what the buckets hold.
    @Test func coalescedDatumsAggregateLikeTheOriginals() {
        let minute: Int64 = 1_700_000_040_000
        var originals: [MetricDatum] = []
        for k in 0..<300 {
            let dims = k % 3 == 0 ? ["FunctionName": "f\(k % 2)"] : [:]
            originals.append(MetricDatum(namespace: "App", name: k % 5 == 0 ? "Latency" : "Errors", dimensions: dims,
                                         timestamp: minute + Int64(k % 130) * 1_000, values: [Double(k % 7)],
                                         unit: k % 5 == 0 ? .milliseconds : .count, storageResolution: k % 11 == 0 ? 1 : 60))
        }
        var set = StatisticSet()
        set.add(1)
        set.add(2)
        originals.append(MetricDatum(namespace: "App", name: "Errors", timestamp: minute, values: [], statisticValues: set))
        var coalescer = DatumCoalescer()
        for d in originals { coalescer.add(d) }
        let coalesced = coalescer.datums
        #expect(coalesced.count < originals.count / 4)

        func buckets(_ datums: [MetricDatum]) -> [String: MetricAggregate] {
            var out: [String: MetricAggregate] = [:]
            for d in datums {
                let period = d.storageResolution == 1 ? 1 : 60
                let key = "\(d.series.canonicalDimensions)|\(d.name)|\(d.unit)|\(d.storageResolution)|\(MetricPeriod.start(of: d.timestamp, period: period))"
                out[key, default: .init()].merge(d.aggregate)
            }
            return out
        }
        #expect(buckets(coalesced) == buckets(originals))
        let latest = originals.filter { $0.name == "Latency" && $0.storageResolution == 60 }.map(\.timestamp).max()
        #expect(coalesced.filter { $0.name == "Latency" && $0.storageResolution == 60 }.map(\.timestamp).max() == latest)
    }
}
