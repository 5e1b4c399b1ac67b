import SkylensCore

/// The AWS query protocol's response side: XML documents as the query services (CloudWatch, SNS) write them.
///
/// ```xml
/// <GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
///   <GetMetricStatisticsResult><Label>Latency</Label><Datapoints><member>…</member></Datapoints></GetMetricStatisticsResult>
///   <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
/// </GetMetricStatisticsResponse>
/// ```
/// Structures become elements, lists `<member>` elements, maps `<entry><key/><value/></entry>`, timestamps ISO 8601.
package enum QueryResponse {
    /// The success document for `action` with `result` (a structure; empty for operations without output).
    /// `mapMembers` names the members whose value is a map rather than a structure (the document does not say).
    package static func success(action: String, result: WireValue, requestID: String, xmlns: String,
                                mapMembers: Set<String> = []) -> [UInt8] {
        var out = "<\(action)Response xmlns=\"\(escaped(xmlns))\">"
        if case .map(let members) = result, !members.isEmpty {
            out += "<\(action)Result>"
            for (k, v) in members { write(k, v, mapMembers, into: &out) }
            out += "</\(action)Result>"
        }
        out += "<ResponseMetadata><RequestId>\(escaped(requestID))</RequestId></ResponseMetadata></\(action)Response>"
        return Array(out.utf8)
    }

    /// The error document: `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>…`.
    package static func error(code: String, message: String, sender: Bool, requestID: String, xmlns: String) -> [UInt8] {
        Array(("<ErrorResponse xmlns=\"\(escaped(xmlns))\"><Error><Type>\(sender ? "Sender" : "Receiver")</Type>"
            + "<Code>\(escaped(code))</Code><Message>\(escaped(message))</Message></Error>"
            + "<RequestId>\(escaped(requestID))</RequestId></ErrorResponse>").utf8)
    }

    private static func write(_ name: String, _ value: WireValue, _ mapMembers: Set<String>, into out: inout String) {
        switch value {
        case .null:
            return
        case .map(let members) where mapMembers.contains(name):
            out += "<\(name)>"
            for (k, v) in members {
                out += "<entry><key>\(escaped(k))</key>"
                write("value", v, mapMembers, into: &out)
                out += "</entry>"
            }
            out += "</\(name)>"
        case .map(let members):
            out += "<\(name)>"
            for (k, v) in members { write(k, v, mapMembers, into: &out) }
            out += "</\(name)>"
        case .array(let elements):
            out += "<\(name)>"
            for v in elements { write("member", v, mapMembers, into: &out) }
            out += "</\(name)>"
        default:
            out += "<\(name)>\(escaped(scalar(value)))</\(name)>"
        }
    }

    private static func scalar(_ value: WireValue) -> String {
        switch value {
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? String(d) : d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity"
        case .string(let s), .text(let s): s
        case .timestamp(let t): ISO8601.string(t)
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        case .null, .array, .map: ""
        }
    }

    /// Text with XML's special characters escaped (also in attribute values).
    static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0x0D }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
