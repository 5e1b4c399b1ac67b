import Foundation
import Logging
import SkylensCore
import SkylensWire

/// The CloudWatch Logs API: one method per operation, from request bytes to response bytes.
///
/// Validation follows the API reference; every failure is a `WireError` carrying the AWS error code.
package struct LogsAPI: Sendable {
    /// The `X-Amz-Target` prefix of this API.
    package static let targetPrefix = "Logs_20140328."

    let store: any LogStore
    let writer: GroupCommitWriter
    let metricFilters: MetricFilterRegistry
    let metrics: any MetricStore
    /// Where log events that name X-Ray trace ids are linked to their traces.
    let traces: (any TraceStore)?
    let logger: Logger
    let wallClock: any WallClock
    let region: String
    let accountID: String

    package init(store: any LogStore, writer: GroupCommitWriter, metricFilters: MetricFilterRegistry, metrics: any MetricStore,
                 traces: (any TraceStore)? = nil, wallClock: any WallClock, region: String, accountID: String, logger: Logger) {
        self.store = store
        self.writer = writer
        self.metricFilters = metricFilters
        self.metrics = metrics
        self.traces = traces
        self.logger = logger
        self.wallClock = wallClock
        self.region = region
        self.accountID = accountID
    }

    /// Runs `operation` (the part of `X-Amz-Target` after the prefix) on `body`.
    package func handle(operation: String, body: [UInt8]) async throws(WireError) -> [UInt8] {
        do {
            switch operation {
            case "CreateLogGroup": return try await createLogGroup(body)
            case "DeleteLogGroup": return try await deleteLogGroup(body)
            case "DescribeLogGroups": return try await describeLogGroups(body)
            case "CreateLogStream": return try await createLogStream(body)
            case "DeleteLogStream": return try await deleteLogStream(body)
            case "DescribeLogStreams": return try await describeLogStreams(body)
            case "PutLogEvents": return try await putLogEvents(body)
            case "GetLogEvents": return try await getLogEvents(body)
            case "FilterLogEvents": return try await filterLogEvents(body)
            case "PutRetentionPolicy": return try await putRetentionPolicy(body)
            case "DeleteRetentionPolicy": return try await deleteRetentionPolicy(body)
            case "TestMetricFilter": return try testMetricFilter(body)
            case "PutMetricFilter": return try await putMetricFilter(body)
            case "DescribeMetricFilters": return try await describeMetricFilters(body)
            case "DeleteMetricFilter": return try await deleteMetricFilter(body)
            case "TagResource": return try await tagResource(body)
            case "UntagResource": return try await untagResource(body)
            case "ListTagsForResource": return try await listTagsForResource(body)
            case "TagLogGroup": return try await tagLogGroup(body)
            case "UntagLogGroup": return try await untagLogGroup(body)
            case "ListTagsLogGroup": return try await listTagsLogGroup(body)
            default:
                throw WireError(.unknownOperation, "Operation \(Self.targetPrefix)\(operation) is not supported by Skylens.")
            }
        } catch let error as WireError {
            throw error
        } catch let error as LogsError {
            throw WireError(error)
        } catch let error as FilterPatternError {
            throw WireError(error)
        } catch {
            throw WireError(.serviceUnavailable, "Internal error: \(error)")
        }
    }

    // MARK: groups

    func createLogGroup(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.CreateLogGroup.self, from: body)
        let name = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        try ResourceNames.validateGroup(name)
        if let tags = r.tags { try Self.validateTags(tags) }
        if let cls = r.logGroupClass, !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(cls) {
            throw LogsError.invalid("1 validation error detected: Value '\(cls)' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")
        }
        try await store.createLogGroup(name, tags: r.tags ?? [:], now: wallClock.nowMillis())
        return LogsResponses.empty
    }

    func deleteLogGroup(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.LogGroupName.self, from: body)
        let name = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        try ResourceNames.validateGroup(name)
        try await store.deleteLogGroup(name)
        await metricFilters.groupDeleted(name)
        return LogsResponses.empty
    }

    func describeLogGroups(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.DescribeLogGroups.self, from: body)
        if r.logGroupNamePrefix != nil && r.logGroupNamePattern != nil {
            throw LogsError.invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        }
        if let prefix = r.logGroupNamePrefix { try ResourceNames.validateGroup(prefix, field: "logGroupNamePrefix") }
        let limit = try LogsRequestFields.limit(r.limit, in: 1...50, default: 50)
        let page = try await store.describeLogGroups(
            LogGroupQuery(prefix: r.logGroupNamePrefix, pattern: r.logGroupNamePattern, limit: limit, nextToken: r.nextToken))
        return LogsResponses.describeLogGroups(page, region: region, account: accountID)
    }

    func putRetentionPolicy(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.PutRetentionPolicy.self, from: body)
        let name = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let days = try LogsRequestFields.required(r.retentionInDays, "retentionInDays")
        try ResourceNames.validateGroup(name)
        guard ResourceNames.retentionDays.contains(days) else {
            throw LogsError.invalid("1 validation error detected: Value '\(days)' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \(ResourceNames.retentionDays.sorted())")
        }
        try await store.putRetentionPolicy(group: name, days: days)
        return LogsResponses.empty
    }

    func deleteRetentionPolicy(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.LogGroupName.self, from: body)
        let name = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        try ResourceNames.validateGroup(name)
        try await store.putRetentionPolicy(group: name, days: nil)
        return LogsResponses.empty
    }

    // MARK: streams

    func createLogStream(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.LogStreamName.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let stream = try LogsRequestFields.required(r.logStreamName, "logStreamName")
        try ResourceNames.validateGroup(group)
        try ResourceNames.validateStream(stream)
        try await store.createLogStream(group: group, name: stream, now: wallClock.nowMillis())
        return LogsResponses.empty
    }

    func deleteLogStream(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.LogStreamName.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let stream = try LogsRequestFields.required(r.logStreamName, "logStreamName")
        try ResourceNames.validateGroup(group)
        try ResourceNames.validateStream(stream)
        try await store.deleteLogStream(group: group, name: stream)
        return LogsResponses.empty
    }

    func describeLogStreams(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.DescribeLogStreams.self, from: body)
        let group = try LogsRequestFields.group(name: r.logGroupName, identifier: r.logGroupIdentifier)
        let order: LogStreamQuery.Order
        switch r.orderBy {
        case nil, "LogStreamName": order = .logStreamName
        case "LastEventTime": order = .lastEventTime
        case let other?:
            throw LogsError.invalid("1 validation error detected: Value '\(other)' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]")
        }
        if order == .lastEventTime && r.logStreamNamePrefix != nil {
            throw LogsError.invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        }
        if let prefix = r.logStreamNamePrefix { try ResourceNames.validateStream(prefix, field: "logStreamNamePrefix") }
        let limit = try LogsRequestFields.limit(r.limit, in: 1...50, default: 50)
        let page = try await store.describeLogStreams(LogStreamQuery(
            group: group, prefix: r.logStreamNamePrefix, orderBy: order, descending: r.descending ?? false, limit: limit,
            nextToken: r.nextToken))
        return LogsResponses.describeLogStreams(page, group: group, region: region, account: accountID)
    }

    // MARK: events

    func putLogEvents(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try body.withUnsafeBytes { buffer throws(WireError) in try PutLogEventsRequest.decode(buffer) }
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let stream = try LogsRequestFields.required(r.logStreamName, "logStreamName")
        try ResourceNames.validateGroup(group)
        try ResourceNames.validateStream(stream)
        let now = wallClock.nowMillis()
        let retention = try await store.retention(ofGroup: group)
        let decision = try PutLogEventsPolicy.decide(r.events, now: now, retentionDays: retention)
        var nextToken: String?
        if !decision.accepted.isEmpty {
            let events = decision.accepted.count == r.events.count ? r.events : r.events.slice(decision.accepted)
            var request = AppendRequest(group: group, stream: stream, events: events, ingestionTime: now)
            // Large batches are compressed here, in parallel with other requests, not inside the commit.
            try store.prepareForAppend(&request)
            let receipt = try await writer.submit(request)
            nextToken = EventID.make(streamID: receipt.streamID, seq: receipt.firstSeq + Int64(events.count))
            // The events are committed: a failure to publish their metrics must not make the client retry them.
            do {
                try await publishMetrics(group: group, events: events, now: now)
            } catch {
                logger.error("publishing metrics from log events failed", metadata: ["log.group": "\(group)", "error": "\(error)"])
            }
            do {
                try await linkTraces(group: group, stream: stream, events: events)
            } catch {
                logger.error("linking log events to traces failed", metadata: ["log.group": "\(group)", "error": "\(error)"])
            }
        }
        return LogsResponses.putLogEvents(nextSequenceToken: nextToken, rejected: decision.rejected)
    }

    /// Records which events name X-Ray trace ids (REPORT's `XRAY TraceId`, Powertools' `xray_trace_id`, a logged
    /// `X-Amzn-Trace-Id`), so a trace shows its log lines and a log line leads to its trace. One pass over the
    /// batch's bytes, not one search per event: this runs on every PutLogEvents.
    func linkTraces(group: String, stream: String, events: LogBatch) async throws {
        guard let traces else { return }
        var references: [TraceLogReference] = []
        events.bytes.withUnsafeBytes { all in
            // One reference an event: the store merges a batch's references into one window per trace and stream.
            TraceIdentifiers.forEachTraceID(in: all, messageOffsets: events.offsets) { i, id in
                references.append(TraceLogReference(traceID: id, logGroup: group, logStream: stream, timestamp: events.timestamps[i]))
            }
        }
        try await traces.addLogReferences(references)
    }

    func getLogEvents(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.GetLogEvents.self, from: body)
        let group = try LogsRequestFields.group(name: r.logGroupName, identifier: r.logGroupIdentifier)
        let stream = try LogsRequestFields.required(r.logStreamName, "logStreamName")
        try ResourceNames.validateStream(stream)
        let limit = try LogsRequestFields.limit(r.limit, in: 1...10_000, default: 10_000)
        try Self.validateWindow(r.startTime, r.endTime)
        let token = try r.nextToken.map { token throws(LogsError) in try GetLogEventsToken.parse(token) }
        let page = try await store.getLogEvents(GetEventsQuery(
            group: group, stream: stream, startTime: r.startTime, endTime: r.endTime, token: token, limit: limit,
            startFromHead: r.startFromHead ?? false))
        return LogsResponses.getLogEvents(page)
    }

    func filterLogEvents(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.FilterLogEvents.self, from: body)
        let group = try LogsRequestFields.group(name: r.logGroupName, identifier: r.logGroupIdentifier)
        if r.logStreamNames != nil && r.logStreamNamePrefix != nil {
            throw LogsError.invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
        }
        if let names = r.logStreamNames {
            guard (1...100).contains(names.count) else {
                throw LogsError.invalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100")
            }
            for name in names { try ResourceNames.validateStream(name, field: "logStreamNames") }
        }
        let limit = try LogsRequestFields.limit(r.limit, in: 1...10_000, default: 10_000)
        try Self.validateWindow(r.startTime, r.endTime)
        let cursor = try r.nextToken.map { token throws(LogsError) in try FilterCursor.parse(token) }
        let matcher = try FilterPattern.parse(r.filterPattern ?? "").compile()
        let page = try await store.filterLogEvents(FilterEventsQuery(
            group: group, streamNames: r.logStreamNames, streamPrefix: r.logStreamNamePrefix, startTime: r.startTime,
            endTime: r.endTime, cursor: cursor, limit: limit), matcher: matcher)
        return LogsResponses.filterLogEvents(page)
    }

    /// Runs a pattern over up to 50 messages; no stored data is involved.
    func testMetricFilter(_ body: [UInt8]) throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.TestMetricFilter.self, from: body)
        let pattern = try LogsRequestFields.required(r.filterPattern, "filterPattern")
        let messages = try LogsRequestFields.required(r.logEventMessages, "logEventMessages")
        guard (1...50).contains(messages.count) else {
            throw LogsError.invalid("1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: Member must have length between 1 and 50")
        }
        let matcher = try FilterPattern.parse(pattern).compile()
        var matches: [(eventNumber: Int, message: String, outcome: PatternOutcome)] = []
        for (i, message) in messages.enumerated() {
            let outcome = matcher.evaluate(message)
            if outcome.matched { matches.append((i + 1, message, outcome)) }
        }
        return LogsResponses.testMetricFilter(matches)
    }

    // MARK: metric filters

    /// Metrics from committed events: the group's metric filters, EMF documents, Lambda platform lines.
    func publishMetrics(group: String, events: LogBatch, now: Int64) async throws {
        let extracted = LogMetricExtractor.extract(group: group, filters: try await metricFilters.filters(for: group), events: events)
        var datums = extracted.datums
        if extracted.invalidEMF > 0 {
            // As CloudWatch Logs does: invalid EMF stays a log event and is counted in AWS/Logs.
            datums.append(MetricDatum(namespace: "AWS/Logs", name: "EMFValidationErrors", dimensions: ["LogGroupName": group],
                                      timestamp: now, values: [Double(extracted.invalidEMF)], unit: .count))
        }
        if !datums.isEmpty { try await metrics.put(datums) }
    }

    func putMetricFilter(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.PutMetricFilter.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let name = try LogsRequestFields.required(r.filterName, "filterName")
        let pattern = try LogsRequestFields.required(r.filterPattern, "filterPattern")
        let transformations = try LogsRequestFields.required(r.metricTransformations, "metricTransformations")
        try ResourceNames.validateGroup(group)
        guard transformations.count == 1 else {
            throw LogsError.invalid("1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1 and greater than or equal to 1")
        }
        let t = transformations[0]
        var unit = MetricUnit.none
        if let u = t.unit {
            guard let parsed = MetricUnit(rawValue: u) else {
                throw LogsError.invalid("1 validation error detected: Value '\(u)' at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set")
            }
            unit = parsed
        }
        let transformation = MetricFilter.Transformation(
            metricName: try LogsRequestFields.required(t.metricName, "metricTransformations.1.member.metricName"),
            metricNamespace: try LogsRequestFields.required(t.metricNamespace, "metricTransformations.1.member.metricNamespace"),
            metricValue: try LogsRequestFields.required(t.metricValue, "metricTransformations.1.member.metricValue"),
            defaultValue: t.defaultValue, dimensions: t.dimensions ?? [:], unit: unit)
        _ = try await store.retention(ofGroup: group)
        try await metricFilters.put(StoredMetricFilter(group: group, name: name, pattern: pattern, transformation: transformation,
                                                       creationTime: wallClock.nowMillis()))
        return LogsResponses.empty
    }

    func describeMetricFilters(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.DescribeMetricFilters.self, from: body)
        if r.filterNamePrefix != nil && r.logGroupName == nil {
            throw LogsError.invalid("filterNamePrefix requires logGroupName.")
        }
        if (r.metricName == nil) != (r.metricNamespace == nil) {
            throw LogsError.invalid("metricName and metricNamespace must be given together.")
        }
        if let group = r.logGroupName { _ = try await store.retention(ofGroup: group) }
        let limit = try LogsRequestFields.limit(r.limit, in: 1...50, default: 50)
        var offset = 0
        if let token = r.nextToken {
            guard token.hasPrefix("mf/"), let n = Int(token.dropFirst(3)), n >= 0 else { throw LogsError.invalidToken }
            offset = n
        }
        let all = try await metricFilters.describe(group: r.logGroupName, namePrefix: r.filterNamePrefix, metricName: r.metricName,
                                                   metricNamespace: r.metricNamespace)
        let page = Array(all.dropFirst(offset).prefix(limit))
        return LogsResponses.describeMetricFilters(page, nextToken: offset + limit < all.count ? "mf/\(offset + limit)" : nil)
    }

    func deleteMetricFilter(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.DeleteMetricFilter.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let name = try LogsRequestFields.required(r.filterName, "filterName")
        try await metricFilters.delete(group: group, name: name)
        return LogsResponses.empty
    }

    // MARK: tags

    func tagResource(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.TagResource.self, from: body)
        let group = try groupFromARN(try LogsRequestFields.required(r.resourceArn, "resourceArn"))
        let tags = try LogsRequestFields.required(r.tags, "tags")
        try Self.validateTags(tags)
        try await store.tagGroup(group, add: tags, remove: [])
        return LogsResponses.empty
    }

    func untagResource(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.UntagResource.self, from: body)
        let group = try groupFromARN(try LogsRequestFields.required(r.resourceArn, "resourceArn"))
        let keys = try LogsRequestFields.required(r.tagKeys, "tagKeys")
        try await store.tagGroup(group, add: [:], remove: keys)
        return LogsResponses.empty
    }

    func listTagsForResource(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.ResourceArn.self, from: body)
        let group = try groupFromARN(try LogsRequestFields.required(r.resourceArn, "resourceArn"))
        return LogsResponses.tags(try await store.tags(ofGroup: group))
    }

    func tagLogGroup(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.TagLogGroup.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        let tags = try LogsRequestFields.required(r.tags, "tags")
        try Self.validateTags(tags)
        try await store.tagGroup(group, add: tags, remove: [])
        return LogsResponses.empty
    }

    func untagLogGroup(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.UntagLogGroup.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        try await store.tagGroup(group, add: [:], remove: try LogsRequestFields.required(r.tags, "tags"))
        return LogsResponses.empty
    }

    func listTagsLogGroup(_ body: [UInt8]) async throws -> [UInt8] {
        let r = try LogsRequests.decode(LogsRequests.LogGroupName.self, from: body)
        let group = try LogsRequestFields.required(r.logGroupName, "logGroupName")
        return LogsResponses.tags(try await store.tags(ofGroup: group))
    }

    // MARK: validation helpers

    private func groupFromARN(_ arn: String) throws(LogsError) -> String {
        guard let name = LogsARN.groupName(fromARN: arn) else {
            throw LogsError.invalid("Invalid resourceArn: '\(arn)' is not a log group ARN")
        }
        try ResourceNames.validateGroup(name, field: "resourceArn")
        return name
    }

    static func validateTags(_ tags: [String: String]) throws(LogsError) {
        guard tags.count <= 50 else {
            throw LogsError.invalid("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
        }
        for (key, value) in tags {
            guard (1...128).contains(key.count) else {
                throw LogsError.invalid("1 validation error detected: Value '\(key)' at 'tags' failed to satisfy constraint: Map keys must have length between 1 and 128")
            }
            guard value.count <= 256 else {
                throw LogsError.invalid("1 validation error detected: Value at 'tags.\(key)' failed to satisfy constraint: Map value must have length less than or equal to 256")
            }
            if key.hasPrefix("aws:") { throw LogsError.invalid("Tag keys beginning with 'aws:' are reserved.") }
        }
    }

    static func validateWindow(_ start: Int64?, _ end: Int64?) throws(LogsError) {
        if let start, start < 0 {
            throw LogsError.invalid("1 validation error detected: Value '\(start)' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0")
        }
        if let end, end < 0 {
            throw LogsError.invalid("1 validation error detected: Value '\(end)' at 'endTime' failed to satisfy constraint: Member must have value greater than or equal to 0")
        }
        if let start, let end, start > end {
            throw LogsError.invalid("startTime must be less than or equal to endTime.")
        }
    }
}
