import Testing
@testable import SkylensCore

/// A commit's service-map rows: samples added and taken away are summed per (minute, source, destination), whether
/// the commit touches a few rows (compared in turn) or many (found through a hash table), and rows that cancel out go.
struct ServiceGraphDeltaTests {
    /// The rows summed the plain way, for comparison.
    static func expected(adding new: [GraphSample], removing old: [GraphSample]) -> [String: ServiceStatistics] {
        var out: [String: ServiceStatistics] = [:]
        for (samples, sign) in [(new, Int64(1)), (old, Int64(-1))] {
            for s in samples { out[key(s.minute, s.source, s.destination), default: .init()].add(s, sign: sign) }
        }
        return out.filter { !($0.value.total == 0 && $0.value.histogram.isEmpty && $0.value.totalResponseTimeMillis == 0) }
    }

    static func key(_ minute: Int64, _ source: ServiceID?, _ destination: ServiceID) -> String {
        "\(minute)|\(source?.name ?? "-")|\(source?.type ?? "-")|\(destination.name)|\(destination.type)"
    }

    static func samples(services: Int, count: Int, seed: Int) -> [GraphSample] {
        (0..<count).map { i in
            let k = (i * 7 + seed) % services
            // Two services share a name with different types: equal names must not merge their rows.
            let destination = ServiceID(name: "svc\(k / 2)", type: k % 2 == 0 ? "AWS::Lambda::Function" : "remote")
            let source = i % 3 == 0 ? nil : ServiceID(name: "caller\(i % 4)", type: "AWS::EC2::Instance")
            let outcome: Outcome = [.ok, .error, .fault, .throttle][i % 4]
            return GraphSample(minute: Int64(60 * (i % 2)), source: source, destination: destination, outcome: outcome,
                               responseTimeMillis: Int64(i % 5))
        }
    }

    @Test(arguments: [3, 40])
    func rowsSumEachSampleOnce(services: Int) {
        let new = Self.samples(services: services, count: 300, seed: 1)
        // Some of the old samples are among the new (they cancel), some are not.
        let old = Array(new.prefix(50)) + Self.samples(services: services, count: 30, seed: 5)
        let rows = ServiceGraphDelta.rows(adding: new, removing: old)
        let got = Dictionary(rows.map { (Self.key($0.minute, $0.source, $0.destination), $0.statistics) }, uniquingKeysWith: { a, _ in a })
        #expect(got.count == rows.count)
        #expect(got == Self.expected(adding: new, removing: old))
        #expect(ServiceGraphDelta.rows(adding: new, removing: new).isEmpty)
    }

    /// A commit folds its traces in one at a time (each trace's new samples, then its old ones): the rows are those of
    /// all the commit's samples summed at once, and a trace rewritten with the same samples changes nothing.
    @Test(arguments: [3, 40])
    func tracesFoldedInTurnSumLikeAllAtOnce(services: Int) {
        let new = Self.samples(services: services, count: 300, seed: 2)
        let old = Self.samples(services: services, count: 120, seed: 3)
        var delta = ServiceGraphDelta()
        for t in 0..<30 {
            delta.add(Array(new[(t * 10)..<(t * 10 + 10)]), sign: 1)
            if t < 12 { delta.add(Array(old[(t * 10)..<(t * 10 + 10)]), sign: -1) }
        }
        let rows = delta.changedRows
        let got = Dictionary(rows.map { (Self.key($0.minute, $0.source, $0.destination), $0.statistics) }, uniquingKeysWith: { a, _ in a })
        #expect(got.count == rows.count)
        #expect(got == Self.expected(adding: new, removing: old))
        var unchanged = ServiceGraphDelta()
        for t in 0..<30 {
            unchanged.add(Array(new[(t * 10)..<(t * 10 + 10)]), sign: 1)
            unchanged.add(Array(new[(t * 10)..<(t * 10 + 10)]), sign: -1)
        }
        #expect(unchanged.changedRows.isEmpty)
    }
}
