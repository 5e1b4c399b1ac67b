/// A JSON document as a value tree, read with ``JSONScanner``: for small documents whose every part matters
/// (EMF directives, platform events). Hot paths walk raw bytes instead.
package enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in document order; duplicate keys are kept, and lookups take the last (as CloudWatch does).
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case (.null, .null): true
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Parses a whole document; anything but one JSON value (and whitespace) is an error.
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONScanner.SyntaxError) -> JSONValue {
        var scanner = JSONScanner(bytes)
        let value: JSONValue = try scanner.readTree()
        try scanner.expectEnd()
        return value
    }

    package static func parse(_ text: String) throws(JSONScanner.SyntaxError) -> JSONValue {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(JSONScanner.SyntaxError) in try parse(buffer) } }
        return try result.get()
    }

    /// The last member named `key` of an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    package var string: String? { if case .string(let s) = self { s } else { nil } }
    package var number: Double? { if case .number(let n) = self { n } else { nil } }
    package var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    package var isObject: Bool { if case .object = self { true } else { false } }
}

extension JSONScanner {
    /// Reads one value (of any type, nested at most 256 deep) as a tree. (The wire layer reads its own documents
    /// with a reader of the same shape: sharing this one generically cost a metadata lookup per value.)
    package mutating func readTree(depth: Int = 0) throws(SyntaxError) -> JSONValue {
        guard depth < 256 else { throw error("nesting too deep") }
        switch peek() {
        case UInt8(ascii: "{"):
            var members: [(String, JSONValue)] = []
            try forEachNamedMember { (inner: inout JSONScanner, key: String) throws(SyntaxError) in
                members.append((key, try inner.readTree(depth: depth + 1)))
            }
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            try forEachElement { (inner: inout JSONScanner) throws(SyntaxError) in
                elements.append(try inner.readTree(depth: depth + 1))
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
