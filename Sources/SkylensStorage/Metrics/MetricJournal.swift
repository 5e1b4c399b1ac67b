import SkylensCore

/// The metric journal's row format: the datums of one commit, by series id, so that a commit writes one row and the
/// per-bucket aggregates are rewritten later, many commits at a time (see ``SQLiteMetricStore``).
///
/// ```
/// row    = version:u8(1) count:varint datum*
/// datum  = series:varint timestamp:zigzag-varint flags:u8 [unit:varint-length utf8]  n:varint value:f64le*n
///          [count:f64le*n] [sampleCount sum minimum maximum: f64le*4]
/// flags  = 1 high resolution | 2 counts follow | 4 statistic set follows | 8 unit follows (else: the previous datum's)
/// ```
enum MetricJournal {
    struct Entry: Equatable {
        var series: Int64
        var datum: MetricDatum
    }

    static func encode(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = [1]
        out.reserveCapacity(entries.count * 24 + 8)
        Varint.put(UInt64(entries.count), into: &out)
        var unit: MetricUnit?
        for e in entries {
            let d = e.datum
            Varint.put(UInt64(e.series), into: &out)
            Varint.putSigned(d.timestamp, into: &out)
            var flags: UInt8 = d.storageResolution == 1 ? 1 : 0
            if d.counts != nil { flags |= 2 }
            if d.statisticValues != nil { flags |= 4 }
            if d.unit != unit { flags |= 8 }
            out.append(flags)
            if d.unit != unit {
                let raw = Array(d.unit.rawValue.utf8)
                Varint.put(UInt64(raw.count), into: &out)
                out += raw
                unit = d.unit
            }
            Varint.put(UInt64(d.values.count), into: &out)
            for v in d.values { Varint.putDouble(v, into: &out) }
            if let counts = d.counts { for c in counts { Varint.putDouble(c, into: &out) } }
            if let s = d.statisticValues { for v in [s.sampleCount, s.sum, s.minimum, s.maximum] { Varint.putDouble(v, into: &out) } }
        }
        return out
    }

    /// The entries of a row; nil when the row is not in this format (a corrupt journal is an error, never skipped).
    static func decode(_ bytes: [UInt8]) -> [Entry]? {
        var r = Varint.Reader(bytes)
        guard r.nextByte() == 1, let count = r.next() else { return nil }
        var out: [Entry] = []
        out.reserveCapacity(Int(min(count, 100_000)))
        var unit = MetricUnit.none
        for _ in 0..<count {
            guard let series = r.next(), let timestamp = r.nextSigned(), let flags = r.nextByte() else { return nil }
            if flags & 8 != 0 {
                guard let n = r.next(), let raw = r.nextBytes(Int(n)), let u = MetricUnit(rawValue: String(decoding: raw, as: UTF8.self))
                else { return nil }
                unit = u
            }
            guard let n = r.next(), n <= 150 else { return nil }
            var values: [Double] = []
            for _ in 0..<n { guard let v = r.nextDouble() else { return nil }; values.append(v) }
            var counts: [Double]?
            if flags & 2 != 0 {
                var c: [Double] = []
                for _ in 0..<n { guard let v = r.nextDouble() else { return nil }; c.append(v) }
                counts = c
            }
            var statistics: StatisticSet?
            if flags & 4 != 0 {
                guard let sc = r.nextDouble(), let sum = r.nextDouble(), let min = r.nextDouble(), let max = r.nextDouble() else { return nil }
                var s = StatisticSet()
                s.sampleCount = sc
                s.sum = sum
                s.minimum = min
                s.maximum = max
                statistics = s
            }
            // Namespace, name and dimensions live in metric_series; the entry needs only what its buckets need.
            out.append(Entry(series: Int64(series), datum: MetricDatum(
                namespace: "", name: "", timestamp: timestamp, values: values, counts: counts, statisticValues: statistics,
                unit: unit, storageResolution: flags & 1 != 0 ? 1 : 60)))
        }
        return r.atEnd ? out : nil
    }
}
