/// Turns committed log events into metric datums: the group's metric filters, Embedded Metric Format documents,
/// and (in `/aws/lambda/<function>` groups) the Lambda platform lines. Pure: the caller stores the result.
package enum LogMetricExtractor {
    package struct Result: Sendable {
        package var datums: [MetricDatum] = []
        /// Events that claimed to be EMF (a JSON object with `_aws`) but were not valid EMF: stored, counted, no metric.
        package var invalidEMF = 0
    }

    /// The datums are coalesced: one per series, unit, resolution and time bucket, carrying each distinct value once
    /// with its count, so that a batch in which a filter matched 500 times stores one datum, not 500.
    package static func extract(group: String, filters: [MetricFilter], events: LogBatch) -> Result {
        var result = Result()
        var coalescer = DatumCoalescer()
        let function = LambdaPlatformMetrics.functionName(fromLogGroup: group)
        events.bytes.withUnsafeBytes { buffer in
            for i in 0..<events.count {
                let message = UnsafeRawBufferPointer(rebasing: buffer[events.range(i)])
                let timestamp = events.timestamps[i]
                // By index: iterating the array would copy each filter (and retain all it holds) per event.
                for f in filters.indices {
                    if let datum = filters[f].apply(message: message, timestamp: timestamp) { coalescer.add(datum) }
                }
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
        result.datums = coalescer.datums
        return result
    }

    /// A cheap test before parsing: REPORT lines, timeout lines and JSON platform records.
    static func mightBePlatformLine(_ m: UnsafeRawBufferPointer) -> Bool {
        guard let first = m.first else { return false }
        if first == UInt8(ascii: "R") { return m.starts(with: "REPORT ".utf8) }
        if first == UInt8(ascii: "{") { return ByteSearch.contains(m, Array("\"platform.".utf8)) }
        return ByteSearch.contains(m, Array("Task timed out after ".utf8))
    }
}
