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

/// The values one metric filter observed in a batch, per dimension set and minute: what ``DatumCoalescer`` does for
/// any datum, for a metric whose namespace, name, unit and (standard) resolution are fixed, without building a datum
/// or hashing those names per event. Events of a batch mostly share a minute, so the last bucket is tried first.
package struct MinuteTally: Sendable {
    private struct Key: Hashable {
        var dimensions: [String: String]
        var minute: Int64
    }

    private struct Bucket: Sendable {
        var key: Key
        var timestamp: Int64
        /// The first value and its count; further distinct values in `more`.
        var value: Double
        var count: Double
        var more: [Double: Double] = [:]
    }

    private var index: [Key: Int] = [:]
    private var buckets: [Bucket] = []

    package init() {}

    package var isEmpty: Bool { buckets.isEmpty }

    package mutating func add(_ value: Double, dimensions: [String: String], timestamp: Int64) {
        let minute = MetricPeriod.start(of: timestamp, period: 60)
        let b: Int
        if let last = buckets.indices.last, buckets[last].key.minute == minute, buckets[last].key.dimensions == dimensions {
            b = last
        } else {
            let key = Key(dimensions: dimensions, minute: minute)
            guard let existing = index[key] else {
                index[key] = buckets.count
                buckets.append(Bucket(key: key, timestamp: timestamp, value: value, count: 1))
                return
            }
            b = existing
        }
        buckets[b].timestamp = max(buckets[b].timestamp, timestamp)
        if buckets[b].value == value { buckets[b].count += 1 } else { buckets[b].more[value, default: 0] += 1 }
    }

    /// One datum per bucket, in the order the buckets first appeared (as ``DatumCoalescer/datums`` builds them).
    package func datums(namespace: String, name: String, unit: MetricUnit) -> [MetricDatum] {
        buckets.map { bucket in
            var counts = bucket.more
            counts[bucket.value, default: 0] += bucket.count
            let values = counts.keys.sorted()
            let allOnce = counts.values.allSatisfy { $0 == 1 }
            return MetricDatum(namespace: namespace, name: name, dimensions: bucket.key.dimensions, timestamp: bucket.timestamp,
                               values: values, counts: allOnce ? nil : values.map { counts[$0]! }, unit: unit)
        }
    }
}
