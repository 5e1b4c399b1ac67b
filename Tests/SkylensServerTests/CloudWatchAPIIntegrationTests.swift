import Foundation
import SkylensTesting
import SkylensWire
import Testing

/// The CloudWatch metrics API on a real socket, in AWS JSON 1.0 and in smithy-rpc-v2-cbor.
struct CloudWatchAPIIntegrationTests {
    static let target = "GraniteServiceVersion20100801."
    var now: Double { (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 }

    @Test func jsonPutThenStatisticsAndList() async throws {
        let t = now
        try await TestCollector.with { c in
            let put = try await c.post(target: Self.target + "PutMetricData", body: """
                {"Namespace":"App","MetricData":[
                  {"MetricName":"Latency","Dimensions":[{"Name":"Fn","Value":"a"}],"Timestamp":\(t),"Values":[10,20],"Counts":[1,3],"Unit":"Milliseconds"},
                  {"MetricName":"Latency","Dimensions":[{"Name":"Fn","Value":"b"}],"Timestamp":\(t),"Value":1}]}
                """, contentType: "application/x-amz-json-1.0")
            #expect(put.status == 200, "\(put.text)")
            let stats = try await c.post(target: Self.target + "GetMetricStatistics", body: """
                {"Namespace":"App","MetricName":"Latency","Dimensions":[{"Name":"Fn","Value":"a"}],
                 "StartTime":\(t - 60),"EndTime":\(t + 60),"Period":60,"Statistics":["Sum","SampleCount","Average"]}
                """, contentType: "application/x-amz-json-1.0")
            let points = stats.json["Datapoints"] as? [[String: Any]] ?? []
            #expect(points.count == 1)
            #expect(points.first?["Sum"] as? Double == 70)
            #expect(points.first?["SampleCount"] as? Double == 4)
            #expect(points.first?["Average"] as? Double == 17.5)
            #expect(points.first?["Unit"] as? String == "Milliseconds")
            #expect(points.first?["Timestamp"] as? Double == t)
            let list = try await c.post(target: Self.target + "ListMetrics", body: #"{"Namespace":"App","Dimensions":[{"Name":"Fn","Value":"b"}]}"#,
                                        contentType: "application/x-amz-json-1.0")
            #expect((list.json["Metrics"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test(arguments: [
        (#"{"MetricData":[{"MetricName":"x","Value":1}]}"#, "MissingParameter"),
        (#"{"Namespace":"AWS/X","MetricData":[{"MetricName":"x","Value":1}]}"#, "InvalidParameterValue"),
        (#"{"Namespace":"A","MetricData":[{"MetricName":"x","Value":1,"Values":[1]}]}"#, "InvalidParameterCombination"),
        (#"{"Namespace":"A","MetricData":[{"MetricName":"x","Values":[1,2],"Counts":[1]}]}"#, "InvalidParameterValue"),
        (#"{"Namespace":"A","MetricData":[{"MetricName":"x","Value":1,"Unit":"ms"}]}"#, "InvalidParameterValue"),
        (#"{"Namespace":"A","MetricData":[{"MetricName":"x","Value":1,"Timestamp":1000}]}"#, "InvalidParameterValue"),
    ] as [(String, String)])
    func putMetricDataErrorsCarryTheQueryCode(_ body: String, _ code: String) async throws {
        try await TestCollector.with { c in
            let r = try await c.post(target: Self.target + "PutMetricData", body: body, contentType: "application/x-amz-json-1.0")
            #expect(r.status == 400)
            #expect(r.header("x-amzn-query-error") == "\(code);Sender", "\(r.text)")
            #expect(r.json["__type"] as? String != nil)
        }
    }

    @Test func cborRoundTrip() async throws {
        let t = now
        try await TestCollector.with { c in
            let put = WireValue.map([
                ("Namespace", .string("App")),
                ("MetricData", .array([.map([("MetricName", .string("Hits")), ("Timestamp", .timestamp(t)), ("Value", .double(3))])])),
            ])
            let r = try await c.postCBOR(operation: "PutMetricData", body: CBOR.encode(put))
            #expect(r.status == 200)
            #expect(r.header("smithy-protocol") == "rpc-v2-cbor")
            let get = WireValue.map([
                ("Namespace", .string("App")), ("MetricName", .string("Hits")), ("StartTime", .timestamp(t - 60)),
                ("EndTime", .timestamp(t + 60)), ("Period", .int(60)), ("Statistics", .array([.string("Sum")])),
            ])
            let answer = try CBOR.decode(try await c.postCBOR(operation: "GetMetricStatistics", body: CBOR.encode(get)).body)
            #expect(answer["Datapoints"]?.array?.first?["Sum"] == .double(3))
            #expect(answer["Datapoints"]?.array?.first?["Timestamp"] == .timestamp(t))
            let bad = try await c.postCBOR(operation: "GetMetricStatistics", body: CBOR.encode(.map([("Namespace", .string("App"))])))
            #expect(bad.status == 400)
            #expect(bad.header("x-amzn-query-error") == "MissingParameter;Sender")
            #expect(try CBOR.decode(bad.body)["__type"] == .string("MissingRequiredParameterException"))
        }
    }
}
