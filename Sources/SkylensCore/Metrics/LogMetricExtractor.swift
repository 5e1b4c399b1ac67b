/// Turns committed log events into metric datums: the group's metric filters, Embedded Metric Format documents,
/// and (in `/aws/lambda/<function>` groups) the Lambda platform lines. Pure: the caller stores the result.
package enum LogMetricExtractor {
    package struct Result: Sendable {
        package var datums: [MetricDatum] = []
        /// Events that claimed to be EMF (a JSON object with `_aws`) but were not valid EMF: stored, counted, no metric.
        package var invalidEMF = 0
    }

    package static func extract(group: String, filters: [MetricFilter], events: LogBatch) -> Result {
        var result = Result()
        let function = LambdaPlatformMetrics.functionName(fromLogGroup: group)
        events.bytes.withUnsafeBytes { buffer in
            for i in 0..<events.count {
                let message = UnsafeRawBufferPointer(rebasing: buffer[events.range(i)])
                let timestamp = events.timestamps[i]
                for filter in filters {
                    if let datum = filter.apply(message: message, timestamp: timestamp) { result.datums.append(datum) }
                }
                if EmbeddedMetricFormat.mightBeEMF(message) {
                    do {
                        result.datums += try EmbeddedMetricFormat.extract(message)
                    } catch {
                        result.invalidEMF += 1
                    }
                }
                if let function, Self.mightBePlatformLine(message),
                   let line = LambdaPlatformLine.parse(String(decoding: message, as: UTF8.self)) {
                    result.datums += LambdaPlatformMetrics.datums(for: line, function: function, timestamp: timestamp)
                }
            }
        }
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
