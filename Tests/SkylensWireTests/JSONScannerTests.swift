import Testing
@testable import SkylensWire

struct JSONScannerTests {
    func decode(_ json: String) throws -> PutLogEventsRequest {
        try Array(json.utf8).withUnsafeBytes { buffer in try PutLogEventsRequest.decode(buffer) }
    }

    @Test func decodesPutLogEventsWithEscapes() throws {
        let r = try decode(#"""
            {"logGroupName":"/aws/lambda/f","logStreamName":"s","sequenceToken":null,"extra":{"a":[1,2,{"b":null}]},
             "logEvents":[{"timestamp":1714521600000,"message":"tab\there \"q\" \u00e9 \ud83d\ude00 \\ \/"},
                          {"message":"second","timestamp":1714521600001.0}]}
            """#)
        #expect(r.logGroupName == "/aws/lambda/f")
        #expect(r.logStreamName == "s")
        #expect(r.events.count == 2)
        #expect(r.events.timestamps == [1_714_521_600_000, 1_714_521_600_001])
        #expect(r.events.message(0) == "tab\there \"q\" é 😀 \\ /")
        #expect(r.events.message(1) == "second")
    }

    @Test(arguments: [#"{"logEvents":[{"timestamp":1}]}"#, #"{"logEvents":[{"message":"x"}]}"#])
    func missingEventFieldsAreInvalidParameter(_ json: String) {
        #expect {
            try decode(json)
        } throws: { error in
            (error as? WireError)?.code == .invalidParameter
        }
    }

    @Test(arguments: ["", "{", #"{"logEvents":[{"timestamp":1,"message":"x"]}"#, #"{"a":tru}"#, #"{"a":"\q"}"#, "{} x", #"{"a":"raw"#])
    func malformedJSONIsSerializationException(_ json: String) {
        #expect {
            try decode(json)
        } throws: { error in
            (error as? WireError)?.code == .serialization
        }
    }

    @Test func writerEscapesAndScannerReadsBack() throws {
        var w = JSONWriter()
        w.beginObject()
        w.field("logGroupName", "g\"\n\u{01}")
        w.key("logEvents")
        w.beginArray()
        w.beginObject()
        w.field("timestamp", Int64(5))
        w.field("message", "line\r\nnext")
        w.endObject()
        w.endArray()
        w.endObject()
        let r = try w.bytes.withUnsafeBytes { buffer in try PutLogEventsRequest.decode(buffer) }
        #expect(r.logGroupName == "g\"\n\u{01}")
        #expect(r.events.message(0) == "line\r\nnext")
    }

    @Test func wireErrorBodyHasAWSShape() {
        let body = String(decoding: WireError(.resourceNotFound, "The specified log group does not exist.").jsonBody, as: UTF8.self)
        #expect(body == #"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#)
    }

    @Test func groupNamesFromARNs() {
        #expect(LogsARN.groupName(fromARN: "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/x") == "/aws/lambda/x")
        #expect(LogsARN.groupName(fromARN: "arn:aws:logs:us-east-1:000000000000:log-group:/a:*") == "/a")
        #expect(LogsARN.groupName(fromARN: "arn:aws:sns:us-east-1:000000000000:topic") == nil)
        #expect(LogsARN.groupName(fromIdentifier: "plain") == "plain")
    }
}
