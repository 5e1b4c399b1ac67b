import SkylensCore

/// A decoded `PutLogEvents` body: the events land in one ``LogBatch`` arena, read by ``JSONScanner``.
package struct PutLogEventsRequest: Sendable {
    package var logGroupName: String?
    package var logStreamName: String?
    package var sequenceToken: String?
    package var events: LogBatch

    /// Decodes the body; a JSON error is a `SerializationException`, a malformed event an `InvalidParameterException`.
    package static func decode(_ body: UnsafeRawBufferPointer) throws(WireError) -> PutLogEventsRequest {
        var request = PutLogEventsRequest(events: LogBatch())
        var scanner = JSONScanner(body)
        do {
            try scanner.forEachMember { (s: inout JSONScanner, key: [UInt8]) throws(JSONScanner.SyntaxError) in
                switch String(decoding: key, as: UTF8.self) {
                case "logGroupName": request.logGroupName = s.consumeNull() ? nil : try s.readString()
                case "logStreamName": request.logStreamName = s.consumeNull() ? nil : try s.readString()
                case "sequenceToken": request.sequenceToken = s.consumeNull() ? nil : try s.readString()
                case "logEvents":
                    if s.consumeNull() { return }
                    request.events.timestamps.reserveCapacity(1024)
                    try s.forEachElement { (e: inout JSONScanner) throws(JSONScanner.SyntaxError) in
                        var timestamp: Int64?
                        var hasMessage = false
                        try e.forEachMember { (m: inout JSONScanner, field: [UInt8]) throws(JSONScanner.SyntaxError) in
                            if field.count == 9 && field.elementsEqual("timestamp".utf8) {
                                timestamp = m.consumeNull() ? nil : try m.readInt64()
                            } else if field.count == 7 && field.elementsEqual("message".utf8) {
                                guard !m.consumeNull() else { return }
                                try m.readString(into: &request.events.bytes)
                                hasMessage = true
                            } else {
                                try m.skipValue()
                            }
                        }
                        guard let timestamp, hasMessage else {
                            throw e.error(timestamp == nil ? "missing timestamp in log event" : "missing message in log event")
                        }
                        request.events.timestamps.append(timestamp)
                        request.events.offsets.append(request.events.bytes.count)
                    }
                default:
                    try s.skipValue()
                }
            }
            try scanner.expectEnd()
        } catch {
            if error.message.hasPrefix("missing ") {
                throw WireError(.invalidParameter, "1 validation error detected: \(error.message)")
            }
            throw WireError(.serialization, "The request body is not valid JSON: \(error.description)")
        }
        return request
    }
}
