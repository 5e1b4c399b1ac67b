/// Lazy navigation of a JSON document in raw bytes: a selector is followed by scanning, skipping every value it does
/// not need without materialising it. Nothing is parsed that no selector asks for.
struct JSONDocument {
    /// A value found at the end of a selector.
    enum Leaf: Equatable {
        case string(String)
        /// The number's value and its text as written.
        case number(Double, String)
        case bool(Bool)
        case null
        /// An array, with whether it holds a `null` element.
        case array(containsNull: Bool)
        case object

        var isScalarStringOrNumber: Bool {
            switch self {
            case .string, .number: true
            default: false
            }
        }

        var summary: String {
            switch self {
            case .string(let s): "\"\(s)\""
            case .number(_, let text): text
            case .bool(let b): b ? "true" : "false"
            case .null: "null"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    let bytes: UnsafeRawBufferPointer

    /// Whether the document is a JSON object (JSON patterns never match anything else). Checks the first byte only;
    /// malformed content is found while scanning, which then yields no leaves.
    var isObject: Bool {
        var i = 0
        skipSpace(&i)
        return i < bytes.count && bytes[i] == UInt8(ascii: "{")
    }

    /// The leaves `selector` reaches, or nil when the document is not valid JSON along the way.
    func leaves(_ selector: JSONSelector) -> [Leaf]? {
        var i = 0
        skipSpace(&i)
        var out: [Leaf] = []
        guard walk(selector.steps[...], at: &i, into: &out) else { return nil }
        // The rest of the document must be well-formed too: trailing garbage makes it not JSON.
        skipSpace(&i)
        return i == bytes.count ? out : nil
    }

    // MARK: walking

    /// Follows `steps` from the value at `i`, appending leaves; leaves `i` after that value. False on malformed JSON.
    private func walk(_ steps: ArraySlice<JSONSelector.Step>, at i: inout Int, into out: inout [Leaf]) -> Bool {
        guard let step = steps.first else {
            guard let leaf = readLeaf(&i) else { return false }
            out.append(leaf)
            return true
        }
        let rest = steps.dropFirst()
        guard i < bytes.count else { return false }
        switch (step, bytes[i]) {
        case (.key(let key), UInt8(ascii: "{")):
            // Duplicate keys: the last occurrence wins, so the whole object is scanned and the last match kept.
            var lastStart: Int?
            guard forEachMember(&i, { raw, escaped, valueStart in
                if escaped ? Self.decodedKey(raw) == key : key.utf8.elementsEqual(raw) { lastStart = valueStart }
            }) else { return false }
            if var j = lastStart { _ = walk(rest, at: &j, into: &out) }
            return true
        case (.index(let n), UInt8(ascii: "[")):
            var found: Int?
            var k = 0
            guard forEachElement(&i, { start in
                if k == n { found = start }
                k += 1
            }) else { return false }
            if var j = found { _ = walk(rest, at: &j, into: &out) }
            return true
        case (.wildcard, UInt8(ascii: "[")):
            var starts: [Int] = []
            guard forEachElement(&i, { starts.append($0) }) else { return false }
            for var j in starts { _ = walk(rest, at: &j, into: &out) }
            return true
        case (.wildcard, UInt8(ascii: "{")):
            var starts: [Int] = []
            guard forEachMember(&i, { _, _, start in starts.append(start) }) else { return false }
            for var j in starts { _ = walk(rest, at: &j, into: &out) }
            return true
        default:
            // The path does not continue through this value (a scalar, or the wrong container): nothing there.
            return skipValue(&i)
        }
    }

    /// Calls `body` with each member's raw key bytes (between the quotes), whether they hold escapes, and the
    /// offset of its value; leaves `i` after the object. Keys are compared raw: no string is made per member.
    private func forEachMember(_ i: inout Int, _ body: (UnsafeRawBufferPointer, Bool, Int) -> Void) -> Bool {
        i += 1
        skipSpace(&i)
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return true }
        while true {
            skipSpace(&i)
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return false }
            let keyStart = i + 1
            guard skipString(&i) else { return false }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[keyStart..<(i - 1)])
            let escaped = raw.contains(UInt8(ascii: "\\"))
            skipSpace(&i)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace(&i)
            body(raw, escaped, i)
            guard skipValue(&i) else { return false }
            skipSpace(&i)
            guard i < bytes.count else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return true }
            return false
        }
    }

    private func forEachElement(_ i: inout Int, _ body: (Int) -> Void) -> Bool {
        i += 1
        skipSpace(&i)
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return true }
        while true {
            skipSpace(&i)
            body(i)
            guard skipValue(&i) else { return false }
            skipSpace(&i)
            guard i < bytes.count else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return true }
            return false
        }
    }

    // MARK: values

    private func readLeaf(_ i: inout Int) -> Leaf? {
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return readString(&i).map(Leaf.string)
        case UInt8(ascii: "{"):
            return skipValue(&i) ? .object : nil
        case UInt8(ascii: "["):
            var containsNull = false
            guard forEachElement(&i, { start in
                if matchLiteral("null", at: start) { containsNull = true }
            }) else { return nil }
            return .array(containsNull: containsNull)
        case UInt8(ascii: "t"):
            guard matchLiteral("true", at: i) else { return nil }
            i += 4
            return .bool(true)
        case UInt8(ascii: "f"):
            guard matchLiteral("false", at: i) else { return nil }
            i += 5
            return .bool(false)
        case UInt8(ascii: "n"):
            guard matchLiteral("null", at: i) else { return nil }
            i += 4
            return .null
        default:
            let start = i
            guard skipNumber(&i) else { return nil }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            guard let value = Double(text) else { return nil }
            return .number(value, text)
        }
    }

    func skipSpace(_ i: inout Int) {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    private func matchLiteral(_ literal: StaticString, at i: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        for k in 0..<n where bytes[i + k] != literal.utf8Start[k] { return false }
        return true
    }

    private func skipValue(_ i: inout Int, depth: Int = 0) -> Bool {
        guard i < bytes.count, depth < 512 else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return skipString(&i)
        case UInt8(ascii: "{"):
            return forEachMemberSkipping(&i, depth: depth)
        case UInt8(ascii: "["):
            i += 1
            skipSpace(&i)
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return true }
            while true {
                skipSpace(&i)
                guard skipValue(&i, depth: depth + 1) else { return false }
                skipSpace(&i)
                guard i < bytes.count else { return false }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return true }
                return false
            }
        case UInt8(ascii: "t"):
            guard matchLiteral("true", at: i) else { return false }
            i += 4
            return true
        case UInt8(ascii: "f"):
            guard matchLiteral("false", at: i) else { return false }
            i += 5
            return true
        case UInt8(ascii: "n"):
            guard matchLiteral("null", at: i) else { return false }
            i += 4
            return true
        default:
            return skipNumber(&i)
        }
    }

    private func forEachMemberSkipping(_ i: inout Int, depth: Int) -> Bool {
        i += 1
        skipSpace(&i)
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return true }
        while true {
            skipSpace(&i)
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), skipString(&i) else { return false }
            skipSpace(&i)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace(&i)
            guard skipValue(&i, depth: depth + 1) else { return false }
            skipSpace(&i)
            guard i < bytes.count else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return true }
            return false
        }
    }

    private func skipNumber(_ i: inout Int) -> Bool {
        let start = i
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < bytes.count {
            let b = bytes[i]
            if (b >= 48 && b <= 57) { digits += 1; i += 1 }
            else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { i += 1 }
            else { break }
        }
        return digits > 0 && i > start
    }

    private func skipString(_ i: inout Int) -> Bool {
        i += 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return true }
            if b == UInt8(ascii: "\\") { i += 2; continue }
            if b < 0x20 { return false }
            i += 1
        }
        return false
    }

    /// A key with escapes, decoded.
    private static func decodedKey(_ raw: UnsafeRawBufferPointer) -> String? {
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: raw)
        quoted.append(UInt8(ascii: "\""))
        return quoted.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            return try? scanner.readString()
        }
    }

    /// Reads a string at `i` (which must be a quote), decoding escapes with the same reader as request bodies.
    private func readString(_ i: inout Int) -> String? {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        var scanner = JSONScanner(bytes, at: i)
        guard let text = try? scanner.readString() else { return nil }
        i = scanner.position
        return text
    }
}
