/// The values of one series in one time bucket: the statistic set and a quantile sketch, both mergeable, so any
/// period is computed by merging the buckets it covers.
package struct MetricAggregate: Sendable, Equatable {
    package var stats = StatisticSet()
    package var sketch = QuantileSketch()

    package init() {}

    package mutating func add(_ value: Double, count: Double = 1) {
        stats.add(value, count: count)
        sketch.add(value, count: count)
    }

    /// Adds a datum's values (with their counts) or statistic set, in place.
    package mutating func add(_ datum: MetricDatum) {
        if let s = datum.statisticValues {
            stats.merge(s)
            // A statistic set carries no distribution: the sketch gets its average, SampleCount times.
            if s.sampleCount > 0 { sketch.add(s.sum / s.sampleCount, count: s.sampleCount) }
        }
        for (i, v) in datum.values.enumerated() { add(v, count: datum.counts?[i] ?? 1) }
    }

    package mutating func merge(_ other: MetricAggregate) {
        stats.merge(other.stats)
        sketch.merge(other.sketch)
    }

    /// The value of `statistic` over this aggregate.
    package func value(_ statistic: Statistic) -> Double? {
        guard stats.sampleCount > 0 else { return nil }
        switch statistic {
        case .sampleCount: return stats.sampleCount
        case .sum: return stats.sum
        case .average: return stats.average
        case .minimum: return stats.minimum
        case .maximum: return stats.maximum
        case .percentile(let p): return sketch.percentile(p)
        }
    }
}

/// A CloudWatch statistic: `SampleCount`, `Sum`, `Average`, `Minimum`, `Maximum`, or a percentile `pNN(.NN)`.
package enum Statistic: Sendable, Hashable, CustomStringConvertible {
    case sampleCount, sum, average, minimum, maximum
    case percentile(Double)

    /// Parses a statistic name; percentiles as `p0`…`p100` with up to two decimals (`p99.9`).
    package init?(_ text: String) {
        switch text {
        case "SampleCount": self = .sampleCount
        case "Sum": self = .sum
        case "Average": self = .average
        case "Minimum": self = .minimum
        case "Maximum": self = .maximum
        default:
            guard text.hasPrefix("p") || text.hasPrefix("P"), let p = Double(text.dropFirst()), (0...100).contains(p),
                  text.dropFirst().split(separator: ".").last.map({ text.contains(".") ? $0.count <= 2 : true }) ?? false
            else { return nil }
            self = .percentile(p)
        }
    }

    package var description: String {
        switch self {
        case .sampleCount: "SampleCount"
        case .sum: "Sum"
        case .average: "Average"
        case .minimum: "Minimum"
        case .maximum: "Maximum"
        case .percentile(let p): "p" + (p == p.rounded() ? String(Int(p)) : String(p))
        }
    }
}

/// Period rules: 1, 5, 10, 30 seconds (high resolution) or any multiple of 60.
package enum MetricPeriod {
    package static func isValid(_ seconds: Int) -> Bool {
        [1, 5, 10, 30].contains(seconds) || (seconds >= 60 && seconds % 60 == 0)
    }

    /// The start of the period holding `timestamp` (ms), periods aligned to the epoch.
    package static func start(of timestamp: Int64, period seconds: Int) -> Int64 {
        let p = Int64(seconds) * 1000
        return timestamp >= 0 ? timestamp - timestamp % p : timestamp - ((timestamp % p) + p) % p
    }
}
