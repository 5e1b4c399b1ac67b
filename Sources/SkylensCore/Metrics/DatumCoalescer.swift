/// Merges datums that land in the same stored bucket (series, unit, storage resolution, and minute or second) into
/// one datum carrying each distinct value once with its count. A batch of log events often yields hundreds of
/// datums per metric filter; the store then merges one datum per bucket instead of each of them.
///
/// Coalesced datums aggregate exactly like the originals: the statistic set and the quantile sketch of
/// `values`/`counts` equal those of the individual values. A coalesced datum keeps the latest timestamp of its
/// bucket. Datums carrying a statistic set are passed through unchanged.
package struct DatumCoalescer: Sendable {
    private struct Key: Hashable {
        var namespace: String
        var name: String
        var dimensions: [String: String]
        var unit: MetricUnit
        var resolution: Int
        var bucket: Int64
    }

    private struct Pending {
        var timestamp: Int64
        var order: Int
        var counts: [Double: Double] = [:]
    }

    private var pending: [Key: Pending] = [:]
    private var passthrough: [MetricDatum] = []

    package init() {}

    package mutating func add(_ datum: MetricDatum) {
        guard datum.statisticValues == nil else { passthrough.append(datum); return }
        let period = datum.storageResolution == 1 ? 1 : 60
        let key = Key(namespace: datum.namespace, name: datum.name, dimensions: datum.dimensions, unit: datum.unit,
                      resolution: datum.storageResolution, bucket: MetricPeriod.start(of: datum.timestamp, period: period))
        func merge(_ p: inout Pending) {
            p.timestamp = max(p.timestamp, datum.timestamp)
            for (i, v) in datum.values.enumerated() { p.counts[v, default: 0] += datum.counts?[i] ?? 1 }
        }
        let order = pending.count
        merge(&pending[key, default: Pending(timestamp: datum.timestamp, order: order)])
    }

    /// The coalesced datums, in the order their buckets first appeared, then the passed-through ones.
    package var datums: [MetricDatum] {
        pending.sorted { $0.value.order < $1.value.order }.map { key, p in
            let values = p.counts.keys.sorted()
            let allOnce = p.counts.values.allSatisfy { $0 == 1 }
            return MetricDatum(namespace: key.namespace, name: key.name, dimensions: key.dimensions, timestamp: p.timestamp,
                               values: values, counts: allOnce ? nil : values.map { p.counts[$0]! }, unit: key.unit,
                               storageResolution: key.resolution)
        } + passthrough
    }
}
