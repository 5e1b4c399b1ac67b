import Testing
@testable import SkylensCore

struct MetricMathTests {
    let a = MetricMath.Series(label: "a", points: [(0, 1), (60_000, 2), (120_000, 3)])
    let b = MetricMath.Series(label: "b", points: [(0, 10), (120_000, 30)])

    func eval(_ text: String) throws -> MetricMath.Value {
        let series = ["a": a, "b": b]
        let context = MetricMath.Context(resolve: { (id: String) throws(MetricMath.Error) -> MetricMath.Value in
            guard let s = series[id] else { throw MetricMath.Error(message: "unknown \(id)") }
            return .series(s)
        }, allMetrics: [a, b], grid: [0, 60_000, 120_000])
        return try MetricMath.evaluate(try MetricMath.parse(text), context)
    }

    func points(_ text: String) throws -> [Double] {
        guard case .series(let s) = try eval(text) else { Issue.record("\(text) is not a series"); return [] }
        return s.points.map(\.1)
    }

    @Test func arithmeticPrecedenceAndAlignment() throws {
        #expect(try points("a + b * 2") == [21, 63])
        #expect(try points("(a + 1) ^ 2") == [4, 9, 16])
        #expect(try points("-a") == [-1, -2, -3])
        #expect(try points("b / (a - 1)") == [15])
    }

    @Test func aggregatesOfSeriesAndArrays() throws {
        guard case .scalar(let total) = try eval("SUM(a)") else { Issue.record("SUM of a series is a number"); return }
        #expect(total == 6)
        #expect(try points("SUM(METRICS())") == [11, 2, 33])
        #expect(try points("MAX(METRICS())") == [10, 2, 30])
        #expect(try points("AVG(METRICS(\"b\"))") == [10, 30])
    }

    @Test func fillRateAndIf() throws {
        #expect(try points("FILL(b, 0)") == [10, 0, 30])
        #expect(try points("FILL(b, REPEAT)") == [10, 10, 30])
        #expect(try points("FILL(b, LINEAR)") == [10, 20, 30])
        #expect(try points("RATE(a)") == [1.0 / 60, 1.0 / 60])
        #expect(try points("IF(a > 1, a, 0)") == [0, 2, 3])
        #expect(try points("IF(a >= 2 AND a < 3, 1)") == [1])
    }

    @Test func errorsAreReported() {
        for bad in ["a +", "FOO(a)", "(a", "a $ b", "\"unterminated"] {
            #expect(throws: MetricMath.Error.self, "\(bad)") { try eval(bad) }
        }
        #expect(throws: MetricMath.Error.self) { try eval("c * 2") }
    }
}
