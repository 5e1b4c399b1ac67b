/// Turns committed log events into metric datums: the group's metric filters, Embedded Metric Format documents,
/// and (in `/aws/lambda/<function>` groups) the Lambda platform lines. Pure: the caller stores the result.
package enum LogMetricExtractor {
    package struct Result: Sendable {
        package var datums: [MetricDatum] = []
        /// Events that claimed to be EMF (a JSON object with `_aws`) but were not valid EMF: stored, counted, no metric.
        package var invalidEMF = 0
    }

    /// The datums are coalesced: one per series, unit, resolution and time bucket, carrying each distinct value once
    /// with its count, so that a batch in which a filter matched 500 times stores one datum, not 500. The metric
    /// filters' datums come first (in filter order), then those of EMF documents and platform lines.
    package static func extract(group: String, filters: [MetricFilter], events: LogBatch) -> Result {
        var result = Result()
        var coalescer = DatumCoalescer()
        var tallies = [MinuteTally](repeating: MinuteTally(), count: filters.count)
        let function = LambdaPlatformMetrics.functionName(fromLogGroup: group)
        // The filters' observers (one object each): calling a filter value would copy it (and retain all it holds).
        let observers = filters.map(\.observer)
        events.bytes.withUnsafeBytes { buffer in
            // Filter by filter: a pattern with a prefilter searches the whole batch for its needles once and runs
            // only on the events holding one; the others do not match (and publish the default value, if any).
            var candidates = [Bool](repeating: true, count: events.count)
            for (f, observer) in observers.enumerated() {
                if let needles = observer.matcher.prefilter {
                    for i in candidates.indices { candidates[i] = false }
                    for needle in needles {
                        ByteSearch.forEachMessage(containing: needle, in: buffer, offsets: events.offsets) { candidates[$0] = true }
                    }
                } else {
                    for i in candidates.indices { candidates[i] = true }
                }
                for i in 0..<events.count {
                    let observed = candidates[i]
                        ? observer.observe(UnsafeRawBufferPointer(rebasing: buffer[events.range(i)]))
                        : observer.defaultValue.map { ($0, [:]) }
                    if let (value, dimensions) = observed {
                        tallies[f].add(value, dimensions: dimensions, timestamp: events.timestamps[i])
                    }
                }
            }
            for i in 0..<events.count {
                let message = UnsafeRawBufferPointer(rebasing: buffer[events.range(i)])
                let timestamp = events.timestamps[i]
                if EmbeddedMetricFormat.mightBeEMF(message) {
                    do {
                        for datum in try EmbeddedMetricFormat.extract(message) { coalescer.add(datum) }
                    } catch {
                        result.invalidEMF += 1
                    }
                }
                if let function, Self.mightBePlatformLine(message),
                   let line = LambdaPlatformLine.parse(message) {
                    for datum in LambdaPlatformMetrics.datums(for: line, function: function, timestamp: timestamp) {
                        coalescer.add(datum)
                    }
                }
            }
        }
        for (filter, tally) in zip(filters, tallies) where !tally.isEmpty {
            let t = filter.transformation
            result.datums += tally.datums(namespace: t.metricNamespace, name: t.metricName, unit: t.unit)
        }
        result.datums += coalescer.datums
        return result
    }

    /// A cheap test before parsing: REPORT lines, timeout lines and JSON platform records.
    static func mightBePlatformLine(_ m: UnsafeRawBufferPointer) -> Bool {
        guard let first = m.first else { return false }
        if first == UInt8(ascii: "R") { return m.starts(with: "REPORT ".utf8) }
        if first == UInt8(ascii: "{") { return ByteSearch.contains(m, platformRecord) }
        return ByteSearch.contains(m, timeoutLine)
    }

    private static let platformRecord = Array("\"platform.".utf8)
    private static let timeoutLine = Array("Task timed out after ".utf8)
}
