/// A CloudWatch Logs metric filter: a pattern and the one metric it publishes for matching events.
///
/// ```
/// event ──► pattern.evaluate ──┬─ match:    value of metricValue ("1", "$.field", "$field", "$3") + dimensions
///                              └─ no match: defaultValue, once per event, if set
///       ──► MetricDatum at the event's timestamp
/// ```
package struct MetricFilter: Sendable {
    package struct Transformation: Sendable, Equatable {
        package var metricName: String
        package var metricNamespace: String
        package var metricValue: String
        package var defaultValue: Double?
        /// Dimension name → field reference (`$.path` or `$field`).
        package var dimensions: [String: String]
        package var unit: MetricUnit

        package init(metricName: String, metricNamespace: String, metricValue: String, defaultValue: Double? = nil,
                     dimensions: [String: String] = [:], unit: MetricUnit = .none) {
            self.metricName = metricName
            self.metricNamespace = metricNamespace
            self.metricValue = metricValue
            self.defaultValue = defaultValue
            self.dimensions = dimensions
            self.unit = unit
        }
    }

    package var name: String
    package var pattern: FilterPattern
    package var transformation: Transformation
    /// What runs per event, in one shared object: a batch calls it for every event without copying the filter.
    package let observer: Observer
    var matcher: CompiledFilterPattern { observer.matcher }

    /// The compiled pattern and value sources of a filter.
    package final class Observer: Sendable {
        package let matcher: CompiledFilterPattern
        let value: ValueSource
        let dimensionSources: [(String, ValueSource)]
        package let defaultValue: Double?
        let extractsFields: Bool

        init(matcher: CompiledFilterPattern, value: ValueSource, dimensionSources: [(String, ValueSource)], defaultValue: Double?) {
            self.matcher = matcher
            self.value = value
            self.dimensionSources = dimensionSources
            self.defaultValue = defaultValue
            if case .spaceDelimited = matcher.pattern.body { extractsFields = true } else { extractsFields = false }
        }

        /// The value (and dimensions) the filter publishes for one event, if any.
        package func observe(_ message: UnsafeRawBufferPointer) -> (value: Double, dimensions: [String: String])? {
            guard matcher.matches(message) else {
                guard let d = defaultValue else { return nil }
                return (d, [:])
            }
            // The common case: a constant value (`1`), no dimensions.
            if case .constant(let v) = value, dimensionSources.isEmpty { return (v, [:]) }
            let extracted: [String: String]
            if extractsFields {
                extracted = Dictionary(matcher.evaluate(message).extracted.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            } else {
                extracted = [:]
            }
            // A value that is missing or not numeric publishes nothing (numeric strings convert: "11.5" → 11.5).
            guard let v = MetricFilter.resolve(value, message, extracted).flatMap(MetricFilter.number) else { return nil }
            var dimensions: [String: String] = [:]
            for (key, source) in dimensionSources {
                if let text = MetricFilter.resolve(source, message, extracted) { dimensions[key] = text }
            }
            return (v, dimensions)
        }
    }

    /// Where a value comes from.
    enum ValueSource: Sendable {
        case constant(Double)
        case jsonPath(JSONSelector)
        /// `$name`, or `$3` (also the third field of the line when the pattern did not name it so).
        case field(String)
    }

    /// Builds a filter, applying PutMetricFilter's validation rules (as `InvalidParameterException`).
    package init(name: String, pattern text: String, transformation: Transformation) throws(LogsError) {
        try Self.validateName(name)
        let pattern: FilterPattern
        do {
            pattern = try FilterPattern.parse(text)
        } catch {
            throw LogsError.invalid("Invalid metric filter pattern: \(error.description)")
        }
        let t = transformation
        try Self.validateMetricName(t.metricName, field: "metricName")
        try Self.validateMetricName(t.metricNamespace, field: "metricNamespace")
        guard (1...100).contains(t.metricValue.count) else {
            throw LogsError.invalid("1 validation error detected: Value at 'metricTransformations.1.member.metricValue' failed to satisfy constraint: Member must have length between 1 and 100")
        }
        if t.defaultValue != nil && !t.dimensions.isEmpty {
            throw LogsError.invalid("Invalid metric transformation: dimensions and default value are mutually exclusive properties")
        }
        guard t.dimensions.count <= 3 else {
            throw LogsError.invalid("Invalid metric transformation: a metric transformation can have at most 3 dimensions")
        }
        if !t.dimensions.isEmpty, case .unstructured = pattern.body {
            throw LogsError.invalid("Invalid metric transformation: dimensions can only be used with JSON or space-delimited filter patterns")
        }
        self.name = name
        self.pattern = pattern
        self.transformation = t
        let value = try Self.source(t.metricValue, field: "metricValue", constantsAllowed: true)
        var dims: [(String, ValueSource)] = []
        for (key, reference) in t.dimensions.sorted(by: { $0.key < $1.key }) {
            guard (1...255).contains(key.count) else { throw LogsError.invalid("Invalid metric transformation: dimension names are 1 to 255 characters") }
            dims.append((key, try Self.source(reference, field: "dimensions.\(key)", constantsAllowed: false)))
        }
        observer = Observer(matcher: pattern.compile(), value: value, dimensionSources: dims, defaultValue: t.defaultValue)
    }

    /// Whether the pattern holds a regular expression (CloudWatch allows five such filters a log group).
    package var usesRegex: Bool { Self.hasRegex(pattern) }

    private static func hasRegex(_ pattern: FilterPattern) -> Bool {
        switch pattern.body {
        case .unstructured(let terms): terms.contains { if case .regex = $0.match { true } else { false } }
        case .json(let c): jsonHasRegex(c)
        case .spaceDelimited(let s): s.items.contains { item in
            if case .field(_, let c?) = item { return spaceHasRegex(c) }
            return false
        }
        }
    }

    private static func jsonHasRegex(_ c: JSONCondition) -> Bool {
        switch c {
        case .and(let a, let b), .or(let a, let b): jsonHasRegex(a) || jsonHasRegex(b)
        case .test(let t):
            switch t.operation {
            case .equal(.regex), .notEqual(.regex): true
            default: false
            }
        }
    }

    private static func spaceHasRegex(_ c: SpaceCondition) -> Bool {
        switch c {
        case .and(let a, let b), .or(let a, let b): spaceHasRegex(a) || spaceHasRegex(b)
        case .test(let t): if case .regex = t.value { true } else { false }
        }
    }

    /// The datum this filter publishes for one event, if any.
    package func apply(message: UnsafeRawBufferPointer, timestamp: Int64) -> MetricDatum? {
        guard let (v, dimensions) = observe(message) else { return nil }
        let t = transformation
        return MetricDatum(namespace: t.metricNamespace, name: t.metricName, dimensions: dimensions, timestamp: timestamp,
                           values: [v], unit: t.unit)
    }

    /// The value (and dimensions) this filter publishes for one event, if any: what ``apply(message:timestamp:)``
    /// wraps in a datum. Batches tally these per filter without building a datum per event.
    package func observe(_ message: UnsafeRawBufferPointer) -> (value: Double, dimensions: [String: String])? {
        observer.observe(message)
    }

    package func apply(message: String, timestamp: Int64) -> MetricDatum? {
        var copy = message
        return copy.withUTF8 { apply(message: UnsafeRawBufferPointer($0), timestamp: timestamp) }
    }

    // MARK: value sources

    private static func source(_ text: String, field: String, constantsAllowed: Bool) throws(LogsError) -> ValueSource {
        if text.hasPrefix("$.") || text.hasPrefix("$[") {
            do {
                return .jsonPath(try JSONPatternParser.selector(text))
            } catch {
                throw LogsError.invalid("Invalid metric transformation: \(field) '\(text)' is not a valid JSON selector: \(error.message)")
            }
        }
        if text.hasPrefix("$"), text.count > 1,
           text.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
            return .field(String(text.dropFirst()))
        }
        if constantsAllowed, let v = Double(text), v.isFinite { return .constant(v) }
        throw LogsError.invalid("Invalid metric transformation: \(field) '\(text)' must be a number, a $.json.selector or a $field reference")
    }

    fileprivate static func resolve(_ source: ValueSource, _ message: UnsafeRawBufferPointer, _ extracted: [String: String]) -> String? {
        switch source {
        case .constant(let v):
            return String(v)
        case .jsonPath(let selector):
            guard let leaf = JSONDocument(bytes: message).leaves(selector)?.first else { return nil }
            switch leaf {
            case .number(_, let text): return text
            case .string(let s): return s
            case .bool(let b): return b ? "true" : "false"
            default: return nil
            }
        case .field(let name):
            if let v = extracted["$" + name] { return v }
            // `$3`: the third field of the line, even when the pattern named it.
            if let n = Int(name), n >= 1 {
                let fields = SpaceFields(message)
                return n <= fields.values.count ? SpaceMatcher.text(message, fields.values[n - 1]) : nil
            }
            return nil
        }
    }

    fileprivate static func number(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces
        guard let v = Double(trimmed), v.isFinite else { return nil }
        return v
    }

    // MARK: validation

    static func validateName(_ name: String) throws(LogsError) {
        guard (1...512).contains(name.count), !name.contains(":"), !name.contains("*") else {
            throw LogsError.invalid("1 validation error detected: Value '\(name)' at 'filterName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]* and have length between 1 and 512")
        }
    }

    static func validateMetricName(_ name: String, field: String) throws(LogsError) {
        guard (1...255).contains(name.count), !name.contains(":"), !name.contains("*"), !name.contains("$") else {
            throw LogsError.invalid("1 validation error detected: Value '\(name)' at 'metricTransformations.1.member.\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*$]* and have length between 1 and 255")
        }
    }
}

/// The metric filters of one log group, with CloudWatch's quotas: 100 filters, 5 of them with regular expressions.
/// Putting a filter under an existing name replaces it.
package struct MetricFilterSet: Sendable {
    package private(set) var filters: [MetricFilter] = []

    package static let maxFilters = 100
    package static let maxRegexFilters = 5

    package init() {}

    package mutating func put(_ filter: MetricFilter) throws(LogsError) {
        let others = filters.filter { $0.name != filter.name }
        guard others.count < Self.maxFilters else {
            throw LogsError(.limitExceeded, "Resource limit exceeded: a log group can have at most \(Self.maxFilters) metric filters.")
        }
        if filter.usesRegex && others.filter(\.usesRegex).count >= Self.maxRegexFilters {
            throw LogsError(.limitExceeded, "Resource limit exceeded: a log group can have at most \(Self.maxRegexFilters) metric filters with regular expressions.")
        }
        filters = others + [filter]
    }

    package mutating func delete(_ name: String) throws(LogsError) {
        guard filters.contains(where: { $0.name == name }) else {
            throw LogsError(.resourceNotFound, "The specified metric filter does not exist.")
        }
        filters.removeAll { $0.name == name }
    }
}
