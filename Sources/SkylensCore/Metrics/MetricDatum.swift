/// One metric observation as the core produces it (from metric filters, EMF documents and Lambda platform lines)
/// and as the metric store receives it: a value (or several) of one series at one time.
package struct MetricDatum: Sendable, Equatable {
    package var namespace: String
    package var name: String
    /// Dimension name → value; a series is identified by namespace, name and the exact dimension set.
    package var dimensions: [String: String]
    /// Epoch milliseconds.
    package var timestamp: Int64
    package var values: [Double]
    /// How many times each of ``values`` occurred (PutMetricData's `Counts`); nil means once each.
    package var counts: [Double]?
    /// A pre-aggregated set (PutMetricData's `StatisticValues`) instead of values.
    package var statisticValues: StatisticSet?
    package var unit: MetricUnit
    /// 1 (high resolution) or 60 seconds.
    package var storageResolution: Int

    package init(namespace: String, name: String, dimensions: [String: String] = [:], timestamp: Int64, values: [Double],
                 counts: [Double]? = nil, statisticValues: StatisticSet? = nil, unit: MetricUnit = .none,
                 storageResolution: Int = 60) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions
        self.timestamp = timestamp
        self.values = values
        self.counts = counts
        self.statisticValues = statisticValues
        self.unit = unit
        self.storageResolution = storageResolution
    }

    package var series: MetricSeries { MetricSeries(namespace: namespace, name: name, dimensions: dimensions) }

    /// This datum's contribution to a bucket.
    package var aggregate: MetricAggregate {
        var a = MetricAggregate()
        a.add(self)
        return a
    }
}

/// A metric series: namespace, name and the exact set of dimensions.
package struct MetricSeries: Sendable, Hashable {
    package var namespace: String
    package var name: String
    package var dimensions: [String: String]

    package init(namespace: String, name: String, dimensions: [String: String] = [:]) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions
    }

    /// The dimensions in a canonical text form (sorted by name; name U+0002 value, pairs joined by U+0001), for
    /// exact-set matching in storage.
    package var canonicalDimensions: String {
        dimensions.sorted { $0.key < $1.key }.map { "\($0.key)\u{2}\($0.value)" }.joined(separator: "\u{1}")
    }

    /// The inverse of ``canonicalDimensions``.
    package static func dimensions(fromCanonical text: String) -> [String: String] {
        guard !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for pair in text.split(separator: "\u{1}", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "\u{2}", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { out[String(parts[0])] = String(parts[1]) }
        }
        return out
    }
}

/// The units CloudWatch accepts.
package enum MetricUnit: String, Sendable, CaseIterable, Equatable {
    case seconds = "Seconds", microseconds = "Microseconds", milliseconds = "Milliseconds"
    case bytes = "Bytes", kilobytes = "Kilobytes", megabytes = "Megabytes", gigabytes = "Gigabytes", terabytes = "Terabytes"
    case bits = "Bits", kilobits = "Kilobits", megabits = "Megabits", gigabits = "Gigabits", terabits = "Terabits"
    case percent = "Percent", count = "Count"
    case bytesPerSecond = "Bytes/Second", kilobytesPerSecond = "Kilobytes/Second", megabytesPerSecond = "Megabytes/Second"
    case gigabytesPerSecond = "Gigabytes/Second", terabytesPerSecond = "Terabytes/Second"
    case bitsPerSecond = "Bits/Second", kilobitsPerSecond = "Kilobits/Second", megabitsPerSecond = "Megabits/Second"
    case gigabitsPerSecond = "Gigabits/Second", terabitsPerSecond = "Terabits/Second"
    case countPerSecond = "Count/Second"
    case none = "None"
}

/// SampleCount, Sum, Minimum and Maximum of a set of values: what CloudWatch keeps per series and period.
package struct StatisticSet: Sendable, Equatable {
    package var sampleCount: Double = 0
    package var sum: Double = 0
    package var minimum: Double = .infinity
    package var maximum: Double = -.infinity

    package init() {}

    package mutating func add(_ value: Double, count: Double = 1) {
        sampleCount += count
        sum += value * count
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
    }

    package mutating func merge(_ other: StatisticSet) {
        sampleCount += other.sampleCount
        sum += other.sum
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }

    package var average: Double { sampleCount > 0 ? sum / sampleCount : .nan }
}
