import Testing
@testable import SkylensCore
@testable import SkylensWire

/// PutMetricData's JSON path (straight from bytes into each datum's fields) decides exactly as the document path
/// (any protocol) does: the same datums for valid bodies, the same error for invalid ones.
struct PutMetricDataTests {
    static let now: Int64 = 1_800_000_000_000
    static let t = Double(now / 1000 - 60)

    static let bodies: [String] = [
        #"{"Namespace":"App","MetricData":[{"MetricName":"Latency","Value":12.5,"Unit":"Milliseconds","Timestamp":\#(t)}]}"#,
        #"{"MetricData":[{"MetricName":"A","Value":1}],"Namespace":"App"}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Dimensions":[{"Name":"Fn","Value":"f"},{"Name":"Env","Value":"p"}],"Values":[1,2,3],"Counts":[1,1,5],"StorageResolution":1}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","StatisticValues":{"SampleCount":3,"Sum":6,"Minimum":1,"Maximum":3}}]}"#,
        #"{"Namespace":"App","Extra":{"deep":[1,{"x":null}]},"MetricData":[{"MetricName":"A","Value":1,"Other":[true,false]}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1,"MetricName":"B"}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1}],"MetricData":[{"MetricName":"C","Value":2}]}"#,
        #"{"MetricData":[{"MetricName":"A","Value":1}]}"#,
        #"{"Namespace":"AWS/Lambda","MetricData":[{"MetricName":"A","Value":1}]}"#,
        #"{"Namespace":"App","MetricData":{"MetricName":"A"}}"#,
        #"{"Namespace":"App","MetricData":[]}"#,
        #"{"Namespace":"App","MetricData":[1]}"#,
        #"{"Namespace":"App","MetricData":[{"Value":1}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":"x"}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1,"Values":[1]}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Values":[1,2],"Counts":[1]}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1,"Unit":"Parsecs"}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1,"StorageResolution":5}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1,"Timestamp":1}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1,"Dimensions":[{"Name":"X","Value":"1"},{"Name":"X","Value":"2"}]}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A"}]}"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","StatisticValues":{"SampleCount":0,"Sum":1,"Minimum":1,"Maximum":1}}]}"#,
        #"["Namespace"]"#,
        #"{"Namespace":"App","MetricData":[{"MetricName":"A","Value":1}]"#,
        #"{"Namespace":"App"} trailing"#,
    ]

    enum Outcome: Equatable {
        case datums([MetricDatum])
        case error(String, String)
    }

    static func outcome(_ body: () throws(CloudWatchError) -> [MetricDatum]) -> Outcome {
        do { return .datums(try body()) } catch { return .error(error.code.rawValue, error.message) }
    }

    @Test(arguments: bodies)
    func jsonPathDecidesAsTheDocumentPath(_ body: String) {
        let bytes = Array(body.utf8)
        let direct = Self.outcome { () throws(CloudWatchError) in
            let parsed = bytes.withUnsafeBytes { b in Result { () throws(CloudWatchError) in try CloudWatchRequests.putMetricData(json: b, now: Self.now) } }
            return try parsed.get()
        }
        let viaDocument = Self.outcome { () throws(CloudWatchError) in
            let document: WireValue
            do throws(JSONScanner.SyntaxError) { document = try WireValue.parseJSON(bytes) } catch { throw CloudWatchError.invalidJSON(error) }
            return try CloudWatchRequests.putMetricData(document, now: Self.now)
        }
        #expect(direct == viaDocument)
    }

    @Test func validBodiesBecomeDatums() throws {
        let bytes = Array(Self.bodies[2].utf8)
        let datums = try bytes.withUnsafeBytes { b in try Result { () throws(CloudWatchError) in try CloudWatchRequests.putMetricData(json: b, now: Self.now) }.get() }
        #expect(datums.count == 1)
        #expect(datums[0].dimensions == ["Fn": "f", "Env": "p"])
        #expect(datums[0].values == [1, 2, 3])
        #expect(datums[0].counts == [1, 1, 5])
        #expect(datums[0].storageResolution == 1)
        // A member named twice keeps its last value; so does a repeated MetricData.
        let renamed = try Array(Self.bodies[5].utf8).withUnsafeBytes { b in
            try Result { () throws(CloudWatchError) in try CloudWatchRequests.putMetricData(json: b, now: Self.now) }.get()
        }
        #expect(renamed.map(\.name) == ["B"])
    }
}
