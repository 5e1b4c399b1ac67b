#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mergeable quantile sketch with 1% relative accuracy (the DDSketch construction): values fall into
/// logarithmic buckets, so two sketches merge by adding bucket counts, and any percentile of the merged data is
/// within 1% of the true value.
///
/// Buckets: index `⌈log_γ(|v|)⌉` with γ = (1 + α) / (1 − α), α = 0.01, kept separately for positive and negative
/// values; exact zeros are counted apart.
package struct QuantileSketch: Sendable, Equatable {
    package static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)

    package private(set) var positive: [Int32: Double] = [:]
    package private(set) var negative: [Int32: Double] = [:]
    package private(set) var zeros: Double = 0

    package init() {}

    package var count: Double { zeros + positive.values.reduce(0, +) + negative.values.reduce(0, +) }

    package mutating func add(_ value: Double, count: Double = 1) {
        guard value.isFinite, count > 0 else { return }
        if value == 0 || abs(value) < 1e-12 {
            zeros += count
        } else if value > 0 {
            positive[Self.index(value), default: 0] += count
        } else {
            negative[Self.index(-value), default: 0] += count
        }
    }

    package mutating func merge(_ other: QuantileSketch) {
        zeros += other.zeros
        for (k, v) in other.positive { positive[k, default: 0] += v }
        for (k, v) in other.negative { negative[k, default: 0] += v }
    }

    static func index(_ magnitude: Double) -> Int32 {
        Int32(clamping: Int(ceil(log(magnitude) / logGamma)))
    }

    /// The representative value of a bucket: the point whose relative error to any value in it is at most α.
    static func value(_ index: Int32) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    /// The `p`-th percentile (0...100): the smallest value with at least p% of the samples at or below it.
    package func percentile(_ p: Double) -> Double? {
        let n = count
        guard n > 0 else { return nil }
        let rank = max(1, (p / 100 * n).rounded(.up))
        var seen = 0.0
        for k in negative.keys.sorted(by: >) {
            seen += negative[k]!
            if seen >= rank { return -Self.value(k) }
        }
        seen += zeros
        if seen >= rank { return 0 }
        for k in positive.keys.sorted() {
            seen += positive[k]!
            if seen >= rank { return Self.value(k) }
        }
        return positive.keys.max().map(Self.value) ?? 0
    }

    // MARK: bytes

    /// A compact encoding: zero count, then (index, count) pairs per sign, as varints.
    package var encoded: [UInt8] {
        var out: [UInt8] = [1]
        func put(_ v: UInt64) {
            var v = v
            while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }
        func putCount(_ c: Double) { put(c.bitPattern) }
        putCount(zeros)
        for store in [positive, negative] {
            put(UInt64(store.count))
            for (k, c) in store.sorted(by: { $0.key < $1.key }) {
                put(UInt64(bitPattern: Int64((Int64(k) << 1) ^ (Int64(k) >> 63))))
                putCount(c)
            }
        }
        return out
    }

    package init?(encoded bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        guard b.first == 1 else { return nil }
        var i = 1
        func get() -> UInt64? {
            var result: UInt64 = 0, shift: UInt64 = 0
            while i < b.count {
                let x = b[i]; i += 1
                guard shift < 64 else { return nil }
                result |= UInt64(x & 0x7F) << shift
                if x < 0x80 { return result }
                shift += 7
            }
            return nil
        }
        guard let z = get() else { return nil }
        zeros = Double(bitPattern: z)
        for sign in 0..<2 {
            guard let n = get(), n < 1_000_000 else { return nil }
            for _ in 0..<n {
                guard let zz = get(), let c = get() else { return nil }
                let k = Int32(truncatingIfNeeded: Int64(bitPattern: (zz >> 1) ^ (0 &- (zz & 1))))
                if sign == 0 { positive[k] = Double(bitPattern: c) } else { negative[k] = Double(bitPattern: c) }
            }
        }
        guard i == b.count else { return nil }
    }
}
