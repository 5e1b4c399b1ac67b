import SkylensCore

/// Response bodies of the CloudWatch Logs API, in AWS's field names and shapes.
package enum LogsResponses {
    package static let empty: [UInt8] = Array("{}".utf8)

    package static func describeLogGroups(_ page: Page<LogGroupInfo>, region: String, account: String) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + page.items.count * 256)
        w.beginObject()
        w.key("logGroups")
        w.beginArray()
        for g in page.items {
            let arn = LogsARN.group(g.name, region: region, account: account)
            w.beginObject()
            w.field("logGroupName", g.name)
            w.field("creationTime", g.creationTime)
            w.fieldIfPresent("retentionInDays", g.retentionInDays)
            w.field("metricFilterCount", g.metricFilterCount)
            w.field("arn", arn + ":*")
            w.field("storedBytes", g.storedBytes)
            w.field("logGroupClass", "STANDARD")
            w.field("logGroupArn", arn)
            w.endObject()
        }
        w.endArray()
        w.fieldIfPresent("nextToken", page.nextToken)
        w.endObject()
        return w.bytes
    }

    package static func describeLogStreams(_ page: Page<LogStreamInfo>, group: String, region: String, account: String) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + page.items.count * 256)
        w.beginObject()
        w.key("logStreams")
        w.beginArray()
        for s in page.items {
            w.beginObject()
            w.field("logStreamName", s.name)
            w.field("creationTime", s.creationTime)
            w.fieldIfPresent("firstEventTimestamp", s.firstEventTimestamp)
            w.fieldIfPresent("lastEventTimestamp", s.lastEventTimestamp)
            w.fieldIfPresent("lastIngestionTime", s.lastIngestionTime)
            w.field("arn", LogsARN.stream(s.name, group: group, region: region, account: account))
            w.field("storedBytes", s.storedBytes)
            w.endObject()
        }
        w.endArray()
        w.fieldIfPresent("nextToken", page.nextToken)
        w.endObject()
        return w.bytes
    }

    package static func putLogEvents(nextSequenceToken: String?, rejected: PutLogEventsPolicy.Rejected) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.fieldIfPresent("nextSequenceToken", nextSequenceToken)
        if !rejected.isEmpty {
            w.key("rejectedLogEventsInfo")
            w.beginObject()
            w.fieldIfPresent("tooNewLogEventStartIndex", rejected.tooNewLogEventStartIndex)
            w.fieldIfPresent("tooOldLogEventEndIndex", rejected.tooOldLogEventEndIndex)
            w.fieldIfPresent("expiredLogEventEndIndex", rejected.expiredLogEventEndIndex)
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }

    package static func getLogEvents(_ page: EventsPage) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + page.events.reduce(0) { $0 + $1.message.utf8.count + 64 })
        w.beginObject()
        w.key("events")
        w.beginArray()
        for e in page.events {
            w.beginObject()
            w.field("timestamp", e.timestamp)
            w.field("message", e.message)
            w.field("ingestionTime", e.ingestionTime)
            w.endObject()
        }
        w.endArray()
        w.field("nextForwardToken", page.nextForwardToken)
        w.field("nextBackwardToken", page.nextBackwardToken)
        w.endObject()
        return w.bytes
    }

    package static func filterLogEvents(_ page: FilterPage) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + page.events.reduce(0) { $0 + $1.message.utf8.count + 160 })
        w.beginObject()
        w.key("events")
        w.beginArray()
        for e in page.events {
            w.beginObject()
            w.field("logStreamName", e.stream)
            w.field("timestamp", e.timestamp)
            w.field("message", e.message)
            w.field("ingestionTime", e.ingestionTime)
            w.field("eventId", e.eventID)
            w.endObject()
        }
        w.endArray()
        w.key("searchedLogStreams")
        w.beginArray()
        for name in page.searchedStreams {
            w.beginObject()
            w.field("logStreamName", name)
            w.field("searchedCompletely", page.nextToken == nil)
            w.endObject()
        }
        w.endArray()
        w.fieldIfPresent("nextToken", page.nextToken)
        w.endObject()
        return w.bytes
    }

    /// `TestMetricFilter`: the matching messages with their 1-based `eventNumber` and `extractedValues`.
    package static func testMetricFilter(_ matches: [(eventNumber: Int, message: String, outcome: PatternOutcome)]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("matches")
        w.beginArray()
        for m in matches {
            w.beginObject()
            w.field("eventNumber", m.eventNumber)
            w.field("eventMessage", m.message)
            w.key("extractedValues")
            w.beginObject()
            for value in m.outcome.extracted { w.field(value.name, value.value) }
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    package static func describeMetricFilters(_ filters: [StoredMetricFilter], nextToken: String?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("metricFilters")
        w.beginArray()
        for f in filters {
            w.beginObject()
            w.field("filterName", f.name)
            w.field("filterPattern", f.pattern)
            w.key("metricTransformations")
            w.beginArray()
            w.beginObject()
            let t = f.transformation
            w.field("metricName", t.metricName)
            w.field("metricNamespace", t.metricNamespace)
            w.field("metricValue", t.metricValue)
            if let d = t.defaultValue { w.key("defaultValue"); w.double(d) }
            if !t.dimensions.isEmpty {
                w.key("dimensions")
                w.beginObject()
                for (k, v) in t.dimensions.sorted(by: { $0.key < $1.key }) { w.field(k, v) }
                w.endObject()
            }
            w.field("unit", t.unit.rawValue)
            w.endObject()
            w.endArray()
            w.field("creationTime", f.creationTime)
            w.field("logGroupName", f.group)
            w.field("applyOnTransformedLogs", false)
            w.endObject()
        }
        w.endArray()
        w.fieldIfPresent("nextToken", nextToken)
        w.endObject()
        return w.bytes
    }

    package static func tags(_ tags: [String: String]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("tags")
        w.beginObject()
        for (k, v) in tags.sorted(by: { $0.key < $1.key }) { w.field(k, v) }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// One event of the collector's live tail (newline-delimited JSON, one object a line).
    package static func tailLine(_ e: StoredEvent, group: String) -> [UInt8] {
        var w = JSONWriter(capacity: e.message.utf8.count + 160)
        w.beginObject()
        w.field("logGroupName", group)
        w.field("logStreamName", e.stream)
        w.field("timestamp", e.timestamp)
        w.field("ingestionTime", e.ingestionTime)
        w.field("eventId", e.eventID)
        w.field("message", e.message)
        w.endObject()
        var bytes = w.bytes
        bytes.append(0x0A)
        return bytes
    }
}
