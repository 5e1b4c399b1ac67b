/// The AWS query protocol's request side: an `application/x-www-form-urlencoded` body such as
///
/// ```
/// Action=PutMetricData&Version=2010-08-01&Namespace=App&MetricData.member.1.MetricName=Latency&
/// MetricData.member.1.Dimensions.member.1.Name=FunctionName&MetricData.member.1.Value=12
/// ```
///
/// decoded into the same protocol-neutral ``WireValue`` document the JSON and CBOR protocols produce: `X.member.N`
/// becomes the N-th element of list `X`, `X.entry.N.key`/`.value` an entry of map `X`, other dots nest structures.
/// Scalars carry no type on this wire, so they become ``WireValue/text(_:)`` and are read as whatever type the
/// operation asks for.
package struct QueryRequest: Sendable {
    /// `Action`: the operation.
    package var action: String
    /// `Version`: the API version (`2010-08-01` for CloudWatch, `2010-03-31` for SNS).
    package var version: String?
    /// Every other parameter, as a document.
    package var parameters: WireValue

    package struct DecodingError: Error, Sendable, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    package init(form bytes: [UInt8]) throws(DecodingError) {
        var pairs: [(String, String)] = []
        for part in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: UInt8(ascii: "=")) ?? part.endIndex
            let key = try Self.percentDecoded(part[part.startIndex..<equals])
            let value = equals < part.endIndex ? try Self.percentDecoded(part[(equals + 1)...]) : ""
            pairs.append((key, value))
        }
        guard let action = pairs.last(where: { $0.0 == "Action" })?.1, !action.isEmpty else {
            throw DecodingError(message: "The request must contain the parameter Action.")
        }
        self.action = action
        version = pairs.last { $0.0 == "Version" }?.1
        var root = Node()
        for (key, value) in pairs where key != "Action" && key != "Version" {
            try root.insert(key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)[...], value, key)
        }
        parameters = root.value
    }

    /// A parameter tree under construction: a scalar, or children by name (list positions and map entries are
    /// numbered children until the tree is converted).
    private struct Node {
        var scalar: String?
        var children: [String: Node] = [:]
        var order: [String] = []

        mutating func insert(_ path: ArraySlice<String>, _ value: String, _ key: String) throws(DecodingError) {
            guard let head = path.first else {
                guard children.isEmpty else { throw DecodingError(message: "The parameter \(key) is both a value and a structure.") }
                scalar = value
                return
            }
            guard !head.isEmpty, scalar == nil else { throw DecodingError(message: "The parameter name \(key) is malformed.") }
            if children[head] == nil { order.append(head) }
            try children[head, default: Node()].insert(path.dropFirst(), value, key)
        }

        /// `member.N` children make a list, `entry.N` (with `key`/`value`) a map, anything else a structure.
        var value: WireValue {
            if let scalar { return .text(scalar) }
            if order == ["member"], let members = children["member"], let list = members.numbered {
                return .array(list.map(\.value))
            }
            if order == ["entry"], let entries = children["entry"], let list = entries.numbered {
                return .map(list.compactMap { entry in
                    guard let key = entry.children["key"]?.scalar else { return nil }
                    return (key, entry.children["value"]?.value ?? .text(""))
                })
            }
            return .map(order.map { ($0, children[$0]!.value) })
        }

        /// Children named 1, 2, … in numeric order (the query protocol numbers from 1).
        var numbered: [Node]? {
            let indexed = order.compactMap { k in Int(k).map { ($0, children[k]!) } }
            guard indexed.count == order.count else { return nil }
            return indexed.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private static func percentDecoded(_ bytes: ArraySlice<UInt8>) throws(DecodingError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else {
                    throw DecodingError(message: "The request body has an invalid percent-encoding.")
                }
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
