/// The port through which metrics are kept and read. `SkylensStorage` implements it over SQLite.
package protocol MetricStore: Sendable {
    /// Adds datums to their series' buckets (per minute always; per second too for high-resolution datums).
    func put(_ datums: [MetricDatum]) async throws
    /// One aggregate per period that has data, oldest first, for `query.series` in `[start, end)`, and the unit the
    /// series was last published with.
    func aggregates(_ query: MetricQuery) async throws -> MetricPoints
    /// Series matching the filters; `activeSince` keeps those with data at or after that time (ms).
    func listSeries(namespace: String?, name: String?, dimensions: [(name: String, value: String?)],
                    activeSince: Int64?) async throws -> [MetricSeries]
}

package struct MetricQuery: Sendable {
    package var series: MetricSeries
    /// Inclusive, epoch ms.
    package var start: Int64
    /// Exclusive, epoch ms.
    package var end: Int64
    package var periodSeconds: Int

    package init(series: MetricSeries, start: Int64, end: Int64, periodSeconds: Int) {
        self.series = series
        self.start = start
        self.end = end
        self.periodSeconds = periodSeconds
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
