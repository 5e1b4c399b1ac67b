/// Embedded Metric Format: a JSON log event whose `_aws.CloudWatchMetrics` directives name root members as
/// metrics and dimensions. ``extract(_:)`` returns the metrics, or why the document is not valid EMF.
///
/// ```json
/// {"_aws": {"Timestamp": 1574109732004,
///           "CloudWatchMetrics": [{"Namespace": "ns", "Dimensions": [["fn"]], "Metrics": [{"Name": "time", "Unit": "Milliseconds"}]}]},
///  "fn": "orders", "time": 100}
/// ```
/// An invalid document is still an ordinary log event: callers store it and count it, never drop it.
package enum EmbeddedMetricFormat {
    package struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        package var reason: String
        package var description: String { "invalid EMF document: \(reason)" }
    }

    package static let maxMetricsPerDirective = 100
    package static let maxValuesPerMetric = 100
    package static let maxDimensionsPerSet = 30

    /// Whether the message looks like EMF at all (cheap check before parsing): a JSON object mentioning `_aws`.
    package static func mightBeEMF(_ message: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < message.count, message[i] == 0x20 || message[i] == 0x09 { i += 1 }
        guard i < message.count, message[i] == UInt8(ascii: "{") else { return false }
        return ByteSearch.contains(message, awsKey)
    }

    private static let awsKey = Array("\"_aws\"".utf8)

    /// The metrics of an EMF log message.
    package static func extract(_ message: UnsafeRawBufferPointer) throws(Invalid) -> [MetricDatum] {
        let root: JSONValue
        do {
            root = try JSONValue.parse(message)
        } catch {
            throw Invalid(reason: "the message must be exactly one JSON object (\(error.description))")
        }
        guard root.isObject else { throw Invalid(reason: "the message must be a JSON object") }
        guard let aws = root["_aws"], aws.isObject else { throw Invalid(reason: "_aws must be an object") }
        guard let timestamp = aws["Timestamp"]?.number, timestamp >= 0, timestamp == timestamp.rounded() else {
            throw Invalid(reason: "_aws.Timestamp must be a number of milliseconds since the epoch")
        }
        guard let directives = aws["CloudWatchMetrics"]?.array else {
            throw Invalid(reason: "_aws.CloudWatchMetrics must be an array of metric directives")
        }
        var out: [MetricDatum] = []
        for (d, directive) in directives.enumerated() {
            out += try metrics(of: directive, index: d, root: root, timestamp: Int64(timestamp))
        }
        return out
    }

    package static func extract(_ message: String) throws(Invalid) -> [MetricDatum] {
        let bytes = Array(message.utf8)
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(Invalid) in try extract(buffer) } }
        return try result.get()
    }

    private static func metrics(of directive: JSONValue, index d: Int, root: JSONValue, timestamp: Int64) throws(Invalid) -> [MetricDatum] {
        let at = "CloudWatchMetrics[\(d)]"
        guard directive.isObject else { throw Invalid(reason: "\(at) must be an object") }
        guard let namespace = directive["Namespace"]?.string, (1...1024).contains(namespace.count) else {
            throw Invalid(reason: "\(at).Namespace must be a string of 1 to 1024 characters")
        }
        guard let sets = directive["Dimensions"]?.array, !sets.isEmpty else {
            throw Invalid(reason: "\(at).Dimensions must be a non-empty array of dimension sets ([[]] for none)")
        }
        var dimensionSets: [[String: String]] = []
        for (k, set) in sets.enumerated() {
            guard let references = set.array else { throw Invalid(reason: "\(at).Dimensions[\(k)] must be an array of names") }
            guard references.count <= maxDimensionsPerSet else {
                throw Invalid(reason: "\(at).Dimensions[\(k)] has more than \(maxDimensionsPerSet) dimensions")
            }
            var dims: [String: String] = [:]
            for reference in references {
                guard let name = reference.string, (1...250).contains(name.count) else {
                    throw Invalid(reason: "\(at).Dimensions[\(k)] must hold dimension names of 1 to 250 characters")
                }
                guard let value = root[name] else { throw Invalid(reason: "dimension '\(name)' has no member in the root object") }
                guard let text = value.string else { throw Invalid(reason: "dimension '\(name)' must have a string value") }
                dims[name] = text
            }
            dimensionSets.append(dims)
        }
        guard let definitions = directive["Metrics"]?.array else { throw Invalid(reason: "\(at).Metrics must be an array") }
        guard definitions.count <= maxMetricsPerDirective else {
            throw Invalid(reason: "\(at).Metrics has more than \(maxMetricsPerDirective) metrics")
        }
        var out: [MetricDatum] = []
        for (m, definition) in definitions.enumerated() {
            guard let name = definition["Name"]?.string, (1...1024).contains(name.count) else {
                throw Invalid(reason: "\(at).Metrics[\(m)].Name must be a string of 1 to 1024 characters")
            }
            var unit = MetricUnit.none
            if let u = definition["Unit"] {
                guard let text = u.string, let parsed = MetricUnit(rawValue: text) else {
                    throw Invalid(reason: "\(at).Metrics[\(m)].Unit must be a CloudWatch unit such as Milliseconds or Count")
                }
                unit = parsed
            }
            var resolution = 60
            if let r = definition["StorageResolution"] {
                guard let n = r.number, n == 1 || n == 60 else {
                    throw Invalid(reason: "\(at).Metrics[\(m)].StorageResolution must be 1 or 60")
                }
                resolution = Int(n)
            }
            guard let target = root[name] else { throw Invalid(reason: "metric '\(name)' has no member in the root object") }
            let values: [Double]
            switch target {
            case .number(let n):
                values = [n]
            case .array(let elements):
                guard !elements.isEmpty, elements.count <= maxValuesPerMetric else {
                    throw Invalid(reason: "metric '\(name)' must hold 1 to \(maxValuesPerMetric) values")
                }
                var collected: [Double] = []
                for e in elements {
                    guard let n = e.number else { throw Invalid(reason: "metric '\(name)' must hold numbers only") }
                    collected.append(n)
                }
                values = collected
            default:
                throw Invalid(reason: "metric '\(name)' must be a number or an array of numbers (numeric strings are not accepted)")
            }
            for dims in dimensionSets {
                out.append(MetricDatum(namespace: namespace, name: name, dimensions: dims, timestamp: timestamp, values: values,
                                       unit: unit, storageResolution: resolution))
            }
        }
        return out
    }
}
