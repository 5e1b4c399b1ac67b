/// The port through which metrics are kept and read. `SkylensStorage` implements it over SQLite.
package protocol MetricStore: Sendable {
    /// Adds datums to their series' buckets (per minute always; per second too for high-resolution datums). The
    /// datums are durable when this returns.
    func put(_ datums: [MetricDatum]) async throws
    /// Brings the stored aggregates up to date with every datum put so far (a store may defer that work, as long
    /// as its reads see every datum put).
    func flush() async throws
    /// One aggregate per period that has data, oldest first, for `query.series` in `[start, end)`, and the unit the
    /// series was last published with.
    func aggregates(_ query: MetricQuery) async throws -> MetricPoints
    /// Several queries' aggregates at once, in order (a store may read them in one transaction).
    func aggregates(_ queries: [MetricQuery]) async throws -> [MetricPoints]
    /// Applies CloudWatch's retention: per-second data for 3 hours, per-minute for 15 days, then 5-minute
    /// aggregates until 63 days and 1-hour aggregates until 455 days. Returns the buckets removed or rolled up.
    func sweepExpired(now: Int64) async throws -> Int
    /// Series matching the filters; `activeSince` keeps those with data at or after that time (ms).
    func listSeries(namespace: String?, name: String?, dimensions: [(name: String, value: String?)],
                    activeSince: Int64?) async throws -> [MetricSeries]
}

extension MetricStore {
    package func aggregates(_ queries: [MetricQuery]) async throws -> [MetricPoints] {
        var out: [MetricPoints] = []
        for q in queries { out.append(try await aggregates(q)) }
        return out
    }
}

package struct MetricQuery: Sendable {
    package var series: MetricSeries
    /// Inclusive, epoch ms.
    package var start: Int64
    /// Exclusive, epoch ms.
    package var end: Int64
    package var periodSeconds: Int
    /// Whether percentiles will be asked of the aggregates: without, the store may leave the sketches out.
    package var needsPercentiles: Bool

    package init(series: MetricSeries, start: Int64, end: Int64, periodSeconds: Int, needsPercentiles: Bool = true) {
        self.series = series
        self.start = start
        self.end = end
        self.periodSeconds = periodSeconds
        self.needsPercentiles = needsPercentiles
    }
}

/// The periods of one series that hold data.
package struct MetricPoints: Sendable {
    package var unit: MetricUnit
    package var points: [(start: Int64, aggregate: MetricAggregate)]

    package init(unit: MetricUnit, points: [(start: Int64, aggregate: MetricAggregate)]) {
        self.unit = unit
        self.points = points
    }
}

/// CloudWatch's retention schedule: each resolution (seconds) is kept this long (ms) before it is rolled up into the
/// next coarser one (or, for the last, deleted).
package enum MetricRetention {
    package static let schedule: [(resolution: Int, keep: Int64)] = [
        (1, 3 * 3_600_000),
        (60, 15 * 86_400_000),
        (300, 63 * 86_400_000),
        (3600, 455 * 86_400_000),
    ]

    /// The stored resolutions a period of `seconds` is computed from. Per-second buckets duplicate the per-minute
    /// ones, so they serve only periods under a minute; the others never overlap (a rollup replaces what it covers).
    package static func resolutions(forPeriod seconds: Int) -> [Int] {
        seconds < 60 ? [1] : [60, 300, 3600].filter { seconds % $0 == 0 }
    }
}
