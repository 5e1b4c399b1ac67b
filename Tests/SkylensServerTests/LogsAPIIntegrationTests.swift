import Foundation
import SkylensClient
import SkylensTesting
import Testing

/// The real collector on a real socket, driven with AWS JSON 1.1 requests.
struct LogsAPIIntegrationTests {
    static let target = "Logs_20140328."
    var nowMillis: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test func healthAnswersWithJSON() async throws {
        try await TestCollector.with { c in
            let r = try await c.get("/_skylens/health")
            #expect(r.status == 200)
            #expect(r.json["status"] as? String == "ok")
            let xray = r.json["xray"] as? [String: Any]
            #expect(xray?["documentsStored"] as? Int == 0 && xray?["documentsHeld"] as? Int == 0)
        }
    }

    @Test func answersCarryRequestIDAndContentType() async throws {
        try await TestCollector.with { c in
            let r = try await c.post(target: Self.target + "DescribeLogGroups", body: "{}")
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "application/x-amz-json-1.1")
            #expect((r.header("x-amzn-RequestId") ?? "").count == 36)
            #expect(r.text == #"{"logGroups":[]}"#)
        }
    }

    @Test(arguments: [
        ("CreateLogStream", #"{"logGroupName":"missing","logStreamName":"s"}"#, "ResourceNotFoundException"),
        ("CreateLogGroup", #"{"logGroupName":"bad name"}"#, "InvalidParameterException"),
        ("CreateLogGroup", #"{}"#, "InvalidParameterException"),
        ("CreateLogGroup", #"{"logGroupName":42}"#, "SerializationException"),
        ("CreateLogGroup", #"{"logGroupName":"#, "SerializationException"),
        ("PutRetentionPolicy", #"{"logGroupName":"g","retentionInDays":2}"#, "InvalidParameterException"),
        ("DescribeLogGroups", #"{"limit":0}"#, "InvalidParameterException"),
        ("DescribeLogGroups", #"{"logGroupNamePrefix":"a","logGroupNamePattern":"b"}"#, "InvalidParameterException"),
        ("DescribeLogGroups", #"{"nextToken":"garbage"}"#, "InvalidParameterException"),
        ("FilterLogEvents", #"{"logGroupName":"g","filterPattern":"{ $.a = null }"}"#, "InvalidParameterException"),
        ("FilterLogEvents", #"{"logGroupName":"g","filterPattern":"[word, word]"}"#, "InvalidParameterException"),
        ("FilterLogEvents", #"{"logGroupName":"g","filterPattern":"ERR*"}"#, "InvalidParameterException"),
        ("GetLogEvents", #"{"logGroupName":"g","logStreamName":"s","nextToken":"f/1"}"#, "InvalidParameterException"),
        ("GetLogEvents", #"{"logGroupName":"g","logStreamName":"nope"}"#, "ResourceNotFoundException"),
        ("PutLogEvents", #"{"logGroupName":"g","logStreamName":"s","logEvents":[]}"#, "InvalidParameterException"),
        ("ListTagsForResource", #"{"resourceArn":"arn:aws:sns:us-east-1:0:t"}"#, "InvalidParameterException"),
        ("NoSuchOperation", #"{}"#, "UnknownOperationException"),
    ] as [(String, String, String)])
    func invalidRequestsGetAWSErrors(_ operation: String, _ body: String, _ code: String) async throws {
        try await TestCollector.with { c in
            _ = try await c.post(target: Self.target + "CreateLogGroup", body: #"{"logGroupName":"g"}"#)
            _ = try await c.post(target: Self.target + "CreateLogStream", body: #"{"logGroupName":"g","logStreamName":"s"}"#)
            let r = try await c.post(target: Self.target + operation, body: body)
            #expect(r.status == 400)
            #expect(r.json["__type"] as? String == code, "\(r.text)")
            #expect(!(r.json["message"] as? String ?? "").isEmpty)
        }
    }

    @Test func putGetFilterRoundTrip() async throws {
        try await TestCollector.with { c in
            let client = c.client
            try await client.ensureStream(group: "/aws/lambda/orders", stream: "2024/05/01/[$LATEST]abc")
            let now = nowMillis
            let events = (0..<50).map { i in (timestamp: now - 50 + Int64(i), message: i % 10 == 0 ? "ERROR event \(i)" : "INFO event \(i)") }
            let put = try await client.putLogEvents(group: "/aws/lambda/orders", stream: "2024/05/01/[$LATEST]abc", events: events)
            #expect(put.rejectedLogEventsInfo == nil)
            let got = try await client.logs("GetLogEvents", { w in
                w.field("logGroupName", "/aws/lambda/orders")
                w.field("logStreamName", "2024/05/01/[$LATEST]abc")
                w.field("startFromHead", true)
            }, as: LogsModels.GetLogEvents.self)
            #expect(got.events.map(\.message) == events.map(\.message))
            #expect(got.events.allSatisfy { ($0.ingestionTime ?? 0) >= now - 50 })
            let filtered = try await client.logs("FilterLogEvents", { w in
                w.field("logGroupName", "/aws/lambda/orders")
                w.field("filterPattern", "ERROR")
            }, as: LogsModels.FilterLogEvents.self)
            #expect(filtered.events.map(\.message) == ["ERROR event 0", "ERROR event 10", "ERROR event 20", "ERROR event 30", "ERROR event 40"])
            #expect(Set(filtered.events.compactMap(\.eventId)).count == 5)
            #expect(filtered.nextToken == nil)
        }
    }

    @Test func putLogEventsReportsRejectedEvents() async throws {
        try await TestCollector.with { c in
            try await c.client.ensureStream(group: "g", stream: "s")
            let now = nowMillis
            let body = """
                {"logGroupName":"g","logStreamName":"s","logEvents":[
                  {"timestamp":\(now - 14 * 86_400_000 - 3_600_000),"message":"too old"},
                  {"timestamp":\(now - 14 * 86_400_000 + 60_000),"message":"kept"}]}
                """
            let r = try await c.post(target: Self.target + "PutLogEvents", body: body)
            #expect(r.status == 200)
            let info = r.json["rejectedLogEventsInfo"] as? [String: Any]
            #expect(info?["tooOldLogEventEndIndex"] as? Int == 0)
            let future = """
                {"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":\(now),"message":"ok"},{"timestamp":\(now + 3 * 3_600_000),"message":"too new"}]}
                """
            let f = try await c.post(target: Self.target + "PutLogEvents", body: future)
            #expect((f.json["rejectedLogEventsInfo"] as? [String: Any])?["tooNewLogEventStartIndex"] as? Int == 1)
            let stored = try await c.client.logs("GetLogEvents", { w in
                w.field("logGroupName", "g")
                w.field("logStreamName", "s")
                w.field("startFromHead", true)
            }, as: LogsModels.GetLogEvents.self)
            #expect(stored.events.map(\.message) == ["kept", "ok"])
        }
    }

    @Test func tagsAndRetentionThroughTheAPI() async throws {
        try await TestCollector.with { c in
            _ = try await c.post(target: Self.target + "CreateLogGroup", body: #"{"logGroupName":"g","tags":{"team":"a"}}"#)
            let arn = "arn:aws:logs:us-east-1:000000000000:log-group:g"
            _ = try await c.post(target: Self.target + "TagResource", body: #"{"resourceArn":"\#(arn)","tags":{"env":"dev"}}"#)
            _ = try await c.post(target: Self.target + "UntagResource", body: #"{"resourceArn":"\#(arn)","tagKeys":["team"]}"#)
            let tags = try await c.post(target: Self.target + "ListTagsForResource", body: #"{"resourceArn":"\#(arn)"}"#)
            #expect(tags.json["tags"] as? [String: String] == ["env": "dev"])
            _ = try await c.post(target: Self.target + "PutRetentionPolicy", body: #"{"logGroupName":"g","retentionInDays":7}"#)
            var groups = try await c.post(target: Self.target + "DescribeLogGroups", body: "{}")
            var first = (groups.json["logGroups"] as? [[String: Any]])?.first
            #expect(first?["retentionInDays"] as? Int == 7)
            #expect(first?["arn"] as? String == arn + ":*")
            _ = try await c.post(target: Self.target + "DeleteRetentionPolicy", body: #"{"logGroupName":"g"}"#)
            groups = try await c.post(target: Self.target + "DescribeLogGroups", body: "{}")
            first = (groups.json["logGroups"] as? [[String: Any]])?.first
            #expect(first?["retentionInDays"] == nil)
        }
    }

    @Test func followingTailReceivesEventsAsTheyCommit() async throws {
        try await TestCollector.with { c in
            let client = c.client
            try await client.ensureStream(group: "g", stream: "s")
            _ = try await client.putLogEvents(group: "g", stream: "s", events: [(nowMillis, "ERROR before")])
            var events = try await client.tail(group: "g", pattern: "ERROR", since: nowMillis - 60_000, follow: true).makeAsyncIterator()
            #expect(try await events.next()?.message == "ERROR before")
            _ = try await client.putLogEvents(group: "g", stream: "s", events: [(nowMillis, "INFO skip"), (nowMillis, "ERROR live")])
            let live = try await events.next()
            #expect(live?.message == "ERROR live")
            #expect(live?.logStreamName == "s")
        }
    }

    @Test func acknowledgedEventsSurviveAGracefulRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skylens-restart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = nowMillis
        try await TestCollector.with(configure: { $0.dataDirectory = dir }) { c in
            try await c.client.ensureStream(group: "g", stream: "s")
            for i in 0..<20 {
                _ = try await c.client.putLogEvents(group: "g", stream: "s", events: [(now + Int64(i), "event \(i)")])
            }
        }
        try await TestCollector.with(configure: { $0.dataDirectory = dir }) { c in
            let got = try await c.client.logs("GetLogEvents", { w in
                w.field("logGroupName", "g")
                w.field("logStreamName", "s")
                w.field("startFromHead", true)
            }, as: LogsModels.GetLogEvents.self)
            #expect(got.events.map(\.message) == (0..<20).map { "event \($0)" })
        }
    }

    @Test func hotEventsAreSealedInTheBackground() async throws {
        try await TestCollector.with(configure: {
            $0.sealAge = .milliseconds(1)
            $0.maintenanceInterval = .milliseconds(20)
        }) { c in
            try await c.client.ensureStream(group: "g", stream: "s")
            _ = try await c.client.putLogEvents(group: "g", stream: "s", events: [(nowMillis, "to be sealed")])
            // The hot tier empties once the sealer has run; the event is still readable from its block.
            #expect(try await c.collector.store.hotEventCount() <= 1)
            try await eventually("the hot event is sealed") {
                try await c.collector.store.hotEventCount() == 0 ? true : nil
            }
            let page = try await c.client.logs("FilterLogEvents", { w in w.field("logGroupName", "g") }, as: LogsModels.FilterLogEvents.self)
            #expect(page.events.map(\.message) == ["to be sealed"])
        }
    }
}
