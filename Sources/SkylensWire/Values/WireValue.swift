import SkylensCore

/// A protocol-neutral document: what AWS JSON 1.0, smithy-rpc-v2-cbor and query-protocol bodies decode to and
/// encode from, so that one operation handler serves all three.
package enum WireValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case array([WireValue])
    case map([(String, WireValue)])
    /// Seconds since the epoch (JSON: a number; CBOR: tag 1; XML: ISO 8601).
    case timestamp(Double)
    /// A scalar whose type the wire does not say (query-protocol parameters): read as the type asked for.
    case text(String)

    package static func == (a: WireValue, b: WireValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.double(x), .double(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.bytes(x), .bytes(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.map(x), .map(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.timestamp(x), .timestamp(y)): x == y
        case let (.text(x), .text(y)): x == y
        default: false
        }
    }

    package subscript(key: String) -> WireValue? {
        guard case .map(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    package var string: String? {
        switch self {
        case .string(let s), .text(let s): s
        default: nil
        }
    }

    /// A list; in the query protocol an empty list is sent as an empty parameter (`Dimensions=`).
    package var array: [WireValue]? {
        switch self {
        case .array(let a): a
        case .text(""): []
        default: nil
        }
    }

    package var bool: Bool? {
        switch self {
        case .bool(let b): b
        case .text("true"): true
        case .text("false"): false
        default: nil
        }
    }

    /// Numbers of either kind (and timestamps, as seconds; untyped text that reads as a number).
    package var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .timestamp(let t): t
        case .text(let s): Double(s)
        default: nil
        }
    }

    /// A timestamp in epoch milliseconds: CBOR tag 1, a JSON number of seconds, or query text (ISO 8601 or seconds).
    package var epochMillis: Int64? {
        let seconds: Double?
        if case .text(let s) = self { seconds = ISO8601.seconds(s) ?? Double(s) } else { seconds = number }
        guard let seconds, seconds.isFinite else { return nil }
        return Int64((seconds * 1000).rounded())
    }

    /// Parses an AWS JSON body straight into a document (no intermediate tree: PutMetricData bodies are hot).
    /// Integral numbers become `.int`, others `.double`.
    package static func parseJSON(_ bytes: UnsafeRawBufferPointer) throws(JSONScanner.SyntaxError) -> WireValue {
        var scanner = JSONScanner(bytes)
        let value = try scanner.readWireValue()
        try scanner.expectEnd()
        return value
    }

    package static func parseJSON(_ bytes: [UInt8]) throws(JSONScanner.SyntaxError) -> WireValue {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(JSONScanner.SyntaxError) in try parseJSON(buffer) } }
        return try result.get()
    }

    /// As AWS JSON: timestamps become epoch seconds, bytes base64 (not used by the APIs served here).
    package func writeJSON(_ w: inout JSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .int(let i): w.int(i)
        case .double(let d): w.double(d)
        case .string(let s), .text(let s): w.string(s)
        case .bytes(let b): w.string(String(decoding: b, as: UTF8.self))
        case .timestamp(let t): w.double(t)
        case .array(let a):
            w.beginArray()
            for v in a { v.writeJSON(&w) }
            w.endArray()
        case .map(let members):
            w.beginObject()
            for (k, v) in members {
                w.key(k)
                v.writeJSON(&w)
            }
            w.endObject()
        }
    }

    package var jsonBytes: [UInt8] {
        var w = JSONWriter()
        writeJSON(&w)
        return w.bytes
    }
}

extension WireValue {
    /// Integral numbers become `.int`, others `.double`.
    package static func number(_ value: Double) -> WireValue {
        value == value.rounded() && abs(value) < 9e15 ? .int(Int64(value)) : .double(value)
    }
}

extension JSONScanner {
    /// Reads one value (nested at most 256 deep) as a document. Not the core's generic `readTree`: called from this
    /// module, its unspecialised copy looked up generic metadata for every value, a sixth of PutMetricData's time.
    mutating func readWireValue(depth: Int = 0) throws(SyntaxError) -> WireValue {
        guard depth < 256 else { throw error("nesting too deep") }
        switch peek() {
        case UInt8(ascii: "{"):
            var members: [(String, WireValue)] = []
            try forEachNamedMember { (inner: inout JSONScanner, key: String) throws(SyntaxError) in
                members.append((key, try inner.readWireValue(depth: depth + 1)))
            }
            return .map(members)
        case UInt8(ascii: "["):
            var elements: [WireValue] = []
            try forEachElement { (inner: inout JSONScanner) throws(SyntaxError) in
                elements.append(try inner.readWireValue(depth: depth + 1))
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try readBool())
        case UInt8(ascii: "n"):
            guard consumeNull() else { throw error("expected null") }
            return .null
        case nil:
            throw error("unexpected end of input")
        default:
            return .number(try readNumber())
        }
    }
}
