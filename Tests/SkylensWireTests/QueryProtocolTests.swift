import Testing
@testable import SkylensCore
@testable import SkylensWire

/// The query protocol: form-encoded parameters into a document, documents into XML.
struct QueryProtocolTests {
    @Test func formParametersBecomeADocument() throws {
        let form = "Action=PutMetricData&Version=2010-08-01&Namespace=App%2FOrders&MetricData.member.2.MetricName=B"
            + "&MetricData.member.1.MetricName=A+b&MetricData.member.1.Dimensions.member.1.Name=k"
            + "&MetricData.member.1.Dimensions.member.1.Value=v%26w&MetricData.member.1.Value=1.5"
            + "&MetricData.member.1.Timestamp=2026-11-26T21%3A00%3A00.250Z&Attributes.entry.1.key=Raw"
            + "&Attributes.entry.1.value=true&Empty="
        let request = try QueryRequest(form: Array(form.utf8))
        #expect(request.action == "PutMetricData")
        #expect(request.version == "2010-08-01")
        let p = request.parameters
        #expect(p["Namespace"]?.string == "App/Orders")
        let data = try #require(p["MetricData"]?.array)
        #expect(data.count == 2)
        #expect(data[0]["MetricName"]?.string == "A b")
        #expect(data[1]["MetricName"]?.string == "B")
        #expect(data[0]["Value"]?.number == 1.5)
        #expect(data[0]["Timestamp"]?.epochMillis == 1_795_726_800_250)
        #expect(data[0]["Dimensions"]?.array?.first?["Value"]?.string == "v&w")
        #expect(p["Attributes"]?["Raw"]?.bool == true)
        #expect(p["Empty"]?.array == [])
        #expect(throws: QueryRequest.DecodingError.self) { try QueryRequest(form: Array("Version=1".utf8)) }
        #expect(throws: QueryRequest.DecodingError.self) { try QueryRequest(form: Array("Action=A&X=%zz".utf8)) }
        #expect(throws: QueryRequest.DecodingError.self) { try QueryRequest(form: Array("Action=A&X=1&X.Y=2".utf8)) }
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0), ("2026-11-26T21:00:00Z", 1_795_726_800), ("2026-11-26T21:00:00.5Z", 1_795_726_800.5),
        ("2026-11-26T22:00:00+01:00", 1_795_726_800), ("2000-02-29T12:00:00Z", 951_825_600), ("1969-12-31T23:59:59Z", -1),
    ])
    func iso8601(_ text: String, _ seconds: Double) {
        #expect(ISO8601.seconds(text) == seconds)
    }

    @Test func iso8601RejectsAndFormats() {
        for bad in ["2026-13-01T00:00:00Z", "2026-11-26T21:00:00Zx", "2026-11-26T25:00:00Z", "x"] {
            #expect(ISO8601.seconds(bad) == nil, "\(bad)")
        }
        #expect(ISO8601.string(1_795_726_800) == "2026-11-26T21:00:00Z")
        #expect(ISO8601.string(1_795_726_800.25) == "2026-11-26T21:00:00.250Z")
        #expect(ISO8601.string(-1) == "1969-12-31T23:59:59Z")
    }

    @Test func documentsBecomeXML() {
        let result = WireValue.map([
            ("Label", .string("a<b & \"c\"")),
            ("Datapoints", .array([.map([("Timestamp", .timestamp(0)), ("Sum", .double(2.5)),
                                         ("ExtendedStatistics", .map([("p99", .double(3))]))])])),
            ("NextToken", .null),
        ])
        let xml = String(decoding: QueryResponse.success(action: "GetMetricStatistics", result: result, requestID: "r1",
                                                         xmlns: "urn:x", mapMembers: ["ExtendedStatistics"]), as: UTF8.self)
        #expect(xml == "<GetMetricStatisticsResponse xmlns=\"urn:x\"><GetMetricStatisticsResult>"
            + "<Label>a&lt;b &amp; &quot;c&quot;</Label><Datapoints><member><Timestamp>1970-01-01T00:00:00Z</Timestamp>"
            + "<Sum>2.5</Sum><ExtendedStatistics><entry><key>p99</key><value>3.0</value></entry></ExtendedStatistics>"
            + "</member></Datapoints></GetMetricStatisticsResult><ResponseMetadata><RequestId>r1</RequestId>"
            + "</ResponseMetadata></GetMetricStatisticsResponse>")
        let empty = String(decoding: QueryResponse.success(action: "PutMetricData", result: .map([]), requestID: "r2", xmlns: "urn:x"),
                           as: UTF8.self)
        #expect(empty == "<PutMetricDataResponse xmlns=\"urn:x\"><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></PutMetricDataResponse>")
        let error = String(decoding: QueryResponse.error(code: "InvalidParameterValue", message: "bad <x>", sender: true,
                                                         requestID: "r3", xmlns: "urn:x"), as: UTF8.self)
        #expect(error.contains("<Type>Sender</Type><Code>InvalidParameterValue</Code><Message>bad &lt;x&gt;</Message>"))
    }
}
