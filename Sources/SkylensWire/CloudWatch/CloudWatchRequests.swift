import SkylensCore

/// CloudWatch metric requests read from a protocol-neutral document, with CloudWatch's validation.
package enum CloudWatchRequests {
    /// `PutMetricData` → datums. `now` stamps datums without a Timestamp and bounds the accepted range.
    package static func putMetricData(_ body: WireValue, now: Int64) throws(CloudWatchError) -> [MetricDatum] {
        try putMetricData(namespace: body["Namespace"], data: body["MetricData"]?.array.map { $0.map(DatumFields.init) }, now: now)
    }

    /// PutMetricData from an AWS JSON body, read straight into each datum's fields (no document for the whole
    /// body: a request carries up to 1,000 datums), then validated exactly as ``putMetricData(_:now:)`` does.
    package static func putMetricData(json bytes: UnsafeRawBufferPointer, now: Int64) throws(CloudWatchError) -> [MetricDatum] {
        var namespace: WireValue?
        var data: [DatumFields]?
        do {
            var scanner = JSONScanner(bytes)
            if scanner.peek() == UInt8(ascii: "{") {
                try scanner.forEachNamedMember { (inner: inout JSONScanner, key: String) throws(JSONScanner.SyntaxError) in
                    switch key {
                    case "Namespace":
                        namespace = try inner.readWireValue()
                    case "MetricData" where inner.peek() == UInt8(ascii: "["):
                        var items: [DatumFields] = []
                        try inner.forEachElement { (element: inout JSONScanner) throws(JSONScanner.SyntaxError) in
                            var fields = DatumFields()
                            if element.peek() == UInt8(ascii: "{") {
                                try element.forEachNamedMember { (member: inout JSONScanner, name: String) throws(JSONScanner.SyntaxError) in
                                    if fields.accepts(name) { fields.set(name, try member.readWireValue()) } else { try member.skipValue() }
                                }
                            } else {
                                try element.skipValue()
                            }
                            items.append(fields)
                        }
                        data = items
                    case "MetricData":
                        // Not a list: as a document would read it, no MetricData.
                        try inner.skipValue()
                        data = nil
                    default:
                        try inner.skipValue()
                    }
                }
            } else {
                try scanner.skipValue()
            }
            try scanner.expectEnd()
        } catch {
            throw .invalidJSON(error)
        }
        return try putMetricData(namespace: namespace, data: data, now: now)
    }

    /// One MetricData member's fields as sent, before validation: from a document (any protocol) or straight from
    /// a JSON body. A member named twice keeps its last value, as a document lookup does.
    struct DatumFields {
        var name, dimensions, timestamp, unit, storageResolution, value, statisticValues, values, counts: WireValue?

        init() {}

        /// From a document's members in order: a later member of the same name replaces an earlier one, as a
        /// lookup (`item["MetricName"]`) finds the last.
        init(_ item: WireValue) {
            guard case .map(let members) = item else { return }
            for (key, value) in members { set(key, value) }
        }

        static let keys: Set<String> = ["MetricName", "Dimensions", "Timestamp", "Unit", "StorageResolution", "Value",
                                        "StatisticValues", "Values", "Counts"]

        func accepts(_ key: String) -> Bool { Self.keys.contains(key) }

        mutating func set(_ key: String, _ v: WireValue) {
            switch key {
            case "MetricName": name = v
            case "Dimensions": dimensions = v
            case "Timestamp": timestamp = v
            case "Unit": unit = v
            case "StorageResolution": storageResolution = v
            case "Value": value = v
            case "StatisticValues": statisticValues = v
            case "Values": values = v
            case "Counts": counts = v
            default: break
            }
        }
    }

    private static func putMetricData(namespace: WireValue?, data: [DatumFields]?, now: Int64) throws(CloudWatchError) -> [MetricDatum] {
        guard let namespace = namespace?.string else { throw .missing("Namespace") }
        try validateName(namespace, "Namespace")
        if namespace.hasPrefix("AWS/") { throw .invalid("Namespace", namespace, "Namespaces beginning with AWS/ are reserved.") }
        guard let data, !data.isEmpty else { throw .missing("MetricData") }
        guard data.count <= 1000 else {
            throw CloudWatchError(.invalidParameterValue, "The collection MetricData must not have a size greater than 1000.")
        }
        var out: [MetricDatum] = []
        out.reserveCapacity(data.count)
        var validatedName = ""
        for (k, item) in data.enumerated() {
            // Only error messages need the member's path: built on demand, not per datum.
            var at: String { "MetricData.member.\(k + 1)" }
            guard let name = item.name?.string else { throw .missing("\(at).MetricName") }
            if name != validatedName {
                try validateName(name, "\(at).MetricName")
                validatedName = name
            }
            let dimensions = try self.dimensions(item.dimensions, at: "\(at).Dimensions", requireValues: true)
            var timestamp = now
            if let t = item.timestamp {
                guard let ms = t.epochMillis else { throw .invalid("\(at).Timestamp", "\(t)") }
                guard ms >= now - 14 * 86_400_000, ms <= now + 2 * 3_600_000 else {
                    throw CloudWatchError(.invalidParameterValue, "The parameter \(at).Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.")
                }
                timestamp = ms
            }
            var unit = MetricUnit.none
            if let u = item.unit {
                guard let text = u.string, let parsed = MetricUnit(rawValue: text) else { throw .invalid("\(at).Unit", u.string ?? "\(u)") }
                unit = parsed
            }
            var resolution = 60
            if let r = item.storageResolution {
                guard let n = r.number, n == 1 || n == 60 else {
                    throw CloudWatchError(.invalidParameterValue, "The parameter \(at).StorageResolution must be 1 or 60.")
                }
                resolution = Int(n)
            }
            let value = item.value
            let statistics = item.statisticValues
            let values = item.values?.array
            let presentCount = (value != nil ? 1 : 0) + (statistics != nil ? 1 : 0) + (values != nil ? 1 : 0)
            guard presentCount <= 1 else {
                throw CloudWatchError(.invalidParameterCombination, "The parameters \(at).Value, \(at).StatisticValues and \(at).Values are mutually exclusive and you have specified more than one.")
            }
            var datum = MetricDatum(namespace: namespace, name: name, dimensions: dimensions, timestamp: timestamp, values: [],
                                    unit: unit, storageResolution: resolution)
            if let value {
                datum.values = [try finite(value, "\(at).Value")]
            } else if let statistics {
                var s = StatisticSet()
                guard let count = statistics["SampleCount"]?.number, let sum = statistics["Sum"]?.number,
                      let min = statistics["Minimum"]?.number, let max = statistics["Maximum"]?.number
                else {
                    throw CloudWatchError(.missingParameter, "The parameters SampleCount, Sum, Minimum and Maximum of \(at).StatisticValues are required.")
                }
                guard count > 0, min <= max else {
                    throw CloudWatchError(.invalidParameterValue, "The parameter \(at).StatisticValues must have SampleCount > 0 and Minimum <= Maximum.")
                }
                s.sampleCount = count
                s.sum = sum
                s.minimum = min
                s.maximum = max
                datum.statisticValues = s
            } else if let values {
                guard values.count <= 150 else {
                    throw CloudWatchError(.invalidParameterValue, "The collection \(at).Values must not have a size greater than 150.")
                }
                datum.values = try values.enumerated().map { (i, v) throws(CloudWatchError) in try finite(v, "\(at).Values.member.\(i + 1)") }
                if let counts = item.counts?.array {
                    guard counts.count == values.count else {
                        throw CloudWatchError(.invalidParameterValue, "The parameters \(at).Values and \(at).Counts must be arrays of the same size.")
                    }
                    datum.counts = try counts.enumerated().map { (i, c) throws(CloudWatchError) in
                        let n = try finite(c, "\(at).Counts.member.\(i + 1)")
                        guard n >= 0 else { throw CloudWatchError.invalid("\(at).Counts.member.\(i + 1)", "\(n)") }
                        return n
                    }
                }
            } else {
                throw CloudWatchError(.missingParameter, "\(at) must include Value, Values or StatisticValues.")
            }
            out.append(datum)
        }
        return out
    }

    /// `GetMetricStatistics`.
    package struct StatisticsRequest: Sendable {
        package var series: MetricSeries
        package var start: Int64
        package var end: Int64
        package var period: Int
        package var statistics: [Statistic]
        package var extended: [Statistic]
        package var unit: MetricUnit?
    }

    package static func getMetricStatistics(_ body: WireValue) throws(CloudWatchError) -> StatisticsRequest {
        guard let namespace = body["Namespace"]?.string else { throw .missing("Namespace") }
        guard let name = body["MetricName"]?.string else { throw .missing("MetricName") }
        let dimensions = try self.dimensions(body["Dimensions"], at: "Dimensions", requireValues: true)
        guard let start = body["StartTime"]?.epochMillis else { throw .missing("StartTime") }
        guard let end = body["EndTime"]?.epochMillis else { throw .missing("EndTime") }
        guard start < end else {
            throw CloudWatchError(.invalidParameterValue, "The parameter StartTime must be less than the parameter EndTime.")
        }
        guard let periodValue = body["Period"]?.number else { throw .missing("Period") }
        let period = Int(periodValue)
        guard Double(period) == periodValue, MetricPeriod.isValid(period) else {
            throw CloudWatchError(.invalidParameterValue, "The parameter Period must be 1, 5, 10, 30 or a multiple of 60.")
        }
        var statistics: [Statistic] = []
        for s in body["Statistics"]?.array ?? [] {
            guard let text = s.string, let st = Statistic(text), !{ if case .percentile = st { true } else { false } }() else {
                throw .invalid("Statistics", s.string ?? "\(s)", "Statistics are SampleCount, Average, Sum, Minimum and Maximum.")
            }
            statistics.append(st)
        }
        var extended: [Statistic] = []
        for s in body["ExtendedStatistics"]?.array ?? [] {
            guard let text = s.string, let st = Statistic(text), case .percentile = st else {
                throw .invalid("ExtendedStatistics", s.string ?? "\(s)", "Extended statistics are percentiles such as p99 or p99.9.")
            }
            extended.append(st)
        }
        guard !statistics.isEmpty || !extended.isEmpty else {
            throw CloudWatchError(.invalidParameterCombination, "Must specify either Statistics or ExtendedStatistics, but not both.")
        }
        guard statistics.count + extended.count <= 10 else {
            throw CloudWatchError(.invalidParameterCombination, "At most 10 statistics and extended statistics may be requested.")
        }
        let points = (end - start + Int64(period) * 1000 - 1) / (Int64(period) * 1000)
        guard points <= 1440 else {
            throw CloudWatchError(.invalidParameterCombination, "You have requested up to \(points) datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.")
        }
        var unit: MetricUnit?
        if let u = body["Unit"] {
            guard let text = u.string, let parsed = MetricUnit(rawValue: text) else { throw .invalid("Unit", u.string ?? "\(u)") }
            unit = parsed
        }
        return StatisticsRequest(series: MetricSeries(namespace: namespace, name: name, dimensions: dimensions), start: start,
                                 end: end, period: period, statistics: statistics, extended: extended, unit: unit)
    }

    /// `ListMetrics` filters.
    package struct ListRequest: Sendable {
        package var namespace: String?
        package var name: String?
        package var dimensions: [(name: String, value: String?)]
        package var recentlyActive: Bool
        package var offset: Int
    }

    package static func listMetrics(_ body: WireValue) throws(CloudWatchError) -> ListRequest {
        var filters: [(name: String, value: String?)] = []
        for (k, d) in (body["Dimensions"]?.array ?? []).enumerated() {
            guard let name = d["Name"]?.string else { throw .missing("Dimensions.member.\(k + 1).Name") }
            filters.append((name, d["Value"]?.string))
        }
        guard filters.count <= 10 else { throw CloudWatchError(.invalidParameterValue, "At most 10 dimension filters are allowed.") }
        var recent = false
        if let r = body["RecentlyActive"] {
            guard r.string == "PT3H" else { throw .invalid("RecentlyActive", r.string ?? "\(r)", "The only value is PT3H.") }
            recent = true
        }
        var offset = 0
        if let token = body["NextToken"]?.string {
            guard token.hasPrefix("m/"), let n = Int(token.dropFirst(2)), n >= 0 else {
                throw CloudWatchError(.invalidNextToken, "The service couldn't process your request because the NextToken is invalid.")
            }
            offset = n
        }
        return ListRequest(namespace: body["Namespace"]?.string, name: body["MetricName"]?.string, dimensions: filters,
                           recentlyActive: recent, offset: offset)
    }

    // MARK: helpers

    /// `at` (the member's path, for error messages) is built only when there is an error.
    package static func dimensions(_ value: WireValue?, at path: @autoclosure () -> String, requireValues: Bool) throws(CloudWatchError) -> [String: String] {
        guard let list = value?.array else { return [:] }
        var at: String { path() }
        guard list.count <= 30 else { throw CloudWatchError(.invalidParameterValue, "The collection \(at) must not have a size greater than 30.") }
        var out: [String: String] = [:]
        for (k, d) in list.enumerated() {
            guard let name = d["Name"]?.string else { throw .missing("\(at).member.\(k + 1).Name") }
            guard let v = d["Value"]?.string else { throw .missing("\(at).member.\(k + 1).Value") }
            guard (1...255).contains(name.unicodeScalars.count), (1...1024).contains(v.unicodeScalars.count) else {
                throw .invalid("\(at).member.\(k + 1)", name, "Dimension names are 1-255 characters and values 1-1024.")
            }
            guard out[name] == nil else {
                throw CloudWatchError(.invalidParameterValue, "No metric may have duplicate dimension names; \(name) appears twice in \(at).")
            }
            out[name] = v
        }
        return out
    }

    static func validateName(_ value: String, _ field: String) throws(CloudWatchError) {
        guard (1...255).contains(value.unicodeScalars.count), value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .invalid(field, value, "It must be 1 to 255 printable characters.")
        }
    }

    /// `field` is built only when there is an error.
    static func finite(_ v: WireValue, _ field: @autoclosure () -> String) throws(CloudWatchError) -> Double {
        guard let n = v.number, n.isFinite, abs(n) <= 1e108 || n == 0 else { throw .invalid(field(), "\(v)") }
        return n
    }
}

extension CloudWatchRequests {
    /// One query of `GetMetricData`.
    package struct DataQuery: Sendable {
        package enum Source: Sendable {
            case metric(MetricSeries, period: Int, statistic: Statistic, unit: MetricUnit?)
            case expression(MetricMath.Expression, text: String, period: Int?)
        }
        package var id: String
        package var label: String?
        package var returnData: Bool
        package var source: Source
    }

    package struct DataRequest: Sendable {
        package var queries: [DataQuery]
        package var start: Int64
        package var end: Int64
        package var ascending: Bool
        package var maxDatapoints: Int
        /// Where a `NextToken` resumes: the index of a query and how many of its datapoints came before.
        package var resume: (query: Int, point: Int)
    }

    /// `GetMetricData`.
    package static func getMetricData(_ body: WireValue) throws(CloudWatchError) -> DataRequest {
        guard let list = body["MetricDataQueries"]?.array, !list.isEmpty else { throw .missing("MetricDataQueries") }
        guard list.count <= 500 else {
            throw CloudWatchError(.invalidParameterValue, "The collection MetricDataQueries must not have a size greater than 500.")
        }
        guard let start = body["StartTime"]?.epochMillis else { throw .missing("StartTime") }
        guard let end = body["EndTime"]?.epochMillis else { throw .missing("EndTime") }
        guard start < end else { throw CloudWatchError(.invalidParameterValue, "The parameter StartTime must be less than the parameter EndTime.") }
        var ascending = false
        if let scan = body["ScanBy"]?.string {
            guard scan == "TimestampAscending" || scan == "TimestampDescending" else { throw .invalid("ScanBy", scan) }
            ascending = scan == "TimestampAscending"
        }
        var ids: Set<String> = []
        var queries: [DataQuery] = []
        for (k, q) in list.enumerated() {
            let query = try dataQuery(q, at: "MetricDataQueries.member.\(k + 1)")
            guard ids.insert(query.id).inserted else {
                throw CloudWatchError(.invalidParameterValue, "The value \(query.id) for parameter MetricDataQueries.member.\(k + 1).Id is used more than once.")
            }
            queries.append(query)
        }
        let max = body["MaxDatapoints"]?.number.map(Int.init) ?? 100_800
        guard max >= 1 else { throw .invalid("MaxDatapoints", "\(max)", "It must be at least 1.") }
        var resume = (query: 0, point: 0)
        if let token = body["NextToken"]?.string {
            let parts = token.split(separator: "/")
            guard parts.count == 3, parts[0] == "d", let q = Int(parts[1]), let p = Int(parts[2]), q >= 0, q < queries.count, p >= 0 else {
                throw CloudWatchError(.invalidNextToken, "The service couldn't process your request because the NextToken is invalid.")
            }
            resume = (q, p)
        }
        return DataRequest(queries: queries, start: start, end: end, ascending: ascending, maxDatapoints: max, resume: resume)
    }

    /// One `MetricDataQuery` (of GetMetricData, or of PutMetricAlarm's `Metrics`), validated; `at` names it in errors.
    package static func dataQuery(_ q: WireValue, at: String) throws(CloudWatchError) -> DataQuery {
        guard let id = q["Id"]?.string else { throw .missing("\(at).Id") }
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first),
              id.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" }), id.count <= 255
        else { throw .invalid("\(at).Id", id, "Ids start with a lower-case letter and hold letters, digits and underscores.") }
        let source: DataQuery.Source
        switch (q["MetricStat"], q["Expression"]?.string) {
        case let (stat?, nil):
            guard let metric = stat["Metric"], let ns = metric["Namespace"]?.string, let name = metric["MetricName"]?.string else {
                throw .missing("\(at).MetricStat.Metric")
            }
            let dims = try dimensions(metric["Dimensions"], at: "\(at).MetricStat.Metric.Dimensions", requireValues: true)
            guard let p = stat["Period"]?.number, MetricPeriod.isValid(Int(p)), Double(Int(p)) == p else {
                throw CloudWatchError(.invalidParameterValue, "The parameter \(at).MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60.")
            }
            guard let statText = stat["Stat"]?.string, let statistic = Statistic(statText) else {
                throw .invalid("\(at).MetricStat.Stat", stat["Stat"]?.string ?? "null")
            }
            var unit: MetricUnit?
            if let u = stat["Unit"]?.string {
                guard let parsed = MetricUnit(rawValue: u) else { throw .invalid("\(at).MetricStat.Unit", u) }
                unit = parsed
            }
            source = .metric(MetricSeries(namespace: ns, name: name, dimensions: dims), period: Int(p), statistic: statistic, unit: unit)
        case let (nil, text?):
            let expression: MetricMath.Expression
            do {
                expression = try MetricMath.parse(text)
            } catch {
                throw CloudWatchError(.invalidParameterValue, "The expression of \(at) is invalid: \(error.message)")
            }
            var period: Int?
            if let p = q["Period"]?.number {
                guard MetricPeriod.isValid(Int(p)) else { throw .invalid("\(at).Period", "\(p)") }
                period = Int(p)
            }
            source = .expression(expression, text: text, period: period)
        case (nil, nil):
            throw CloudWatchError(.missingParameter, "\(at) must include MetricStat or Expression.")
        default:
            throw CloudWatchError(.invalidParameterCombination, "\(at) may include MetricStat or Expression, not both.")
        }
        return DataQuery(id: id, label: q["Label"]?.string, returnData: q["ReturnData"]?.bool ?? true, source: source)
    }

}
