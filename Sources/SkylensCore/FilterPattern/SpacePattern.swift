/// A space-delimited filter pattern: `[ip, user, ..., status_code = 4*, bytes > 1000]`.
package struct SpacePattern: Sendable, Equatable {
    package enum Item: Sendable, Equatable {
        /// `...`: zero or more fields, reported as `$1..$n` by their position in the line.
        case ellipsis
        case field(name: String, condition: SpaceCondition?)
    }

    package var items: [Item]

    package var hasEllipsis: Bool { items.contains(.ellipsis) }
}

package indirect enum SpaceCondition: Sendable, Equatable {
    case and(SpaceCondition, SpaceCondition)
    case or(SpaceCondition, SpaceCondition)
    case test(SpaceTest)
}

package struct SpaceTest: Sendable, Equatable {
    package enum Operation: Sendable, Equatable { case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual }
    package enum Value: Sendable, Equatable {
        /// Text with `*` wildcards, compared with the whole field.
        case text(String)
        /// A number: compared numerically with a numeric field, else as text.
        case number(Double, text: String)
        case regex(PatternRegex)
    }

    package var operation: Operation
    package var value: Value
    package var text: String
}

/// Parses `[ … ]` patterns.
struct SpacePatternParser {
    private var p: PatternScanner
    private(set) var regexCount = 0

    init(_ scalars: [Unicode.Scalar], at start: Int) { p = PatternScanner(scalars, at: start) }

    mutating func parse() throws(FilterPatternError) -> SpacePattern {
        guard p.consume("[") else { throw p.error("a space-delimited pattern starts with [") }
        var items: [SpacePattern.Item] = []
        var names: Set<String> = []
        if p.consume("]") { return try finish(items) }
        repeat {
            p.skipSpace()
            let start = p.i
            if p.consume("...") {
                items.append(.ellipsis)
                continue
            }
            let name = try self.name()
            guard names.insert(name).inserted else { throw p.error("Duplicate field '\(name)'", at: start) }
            p.skipSpace()
            var condition: SpaceCondition?
            if let c = p.peek(), c != "," && c != "]" {
                condition = try or(field: name, firstNameRead: true)
            }
            items.append(.field(name: name, condition: condition))
        } while p.consume(",")
        guard p.consume("]") else { throw p.error(p.isAtEnd ? "a space-delimited pattern ends with ]" : "expected , or ] here") }
        return try finish(items)
    }

    private func finish(_ items: [SpacePattern.Item]) throws(FilterPatternError) -> SpacePattern {
        var scanner = p
        scanner.skipSpace()
        guard scanner.isAtEnd else { throw scanner.error("unexpected text after the closing ]") }
        return SpacePattern(items: items)
    }

    private mutating func name() throws(FilterPatternError) -> String {
        p.skipSpace()
        let start = p.i
        while let c = p.peek(), c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" || c == "." { p.i += 1 }
        guard p.i > start else { throw p.error("expected a field name or ...") }
        return p.text(start..<p.i)
    }

    /// `cond ('||' cond)*` within one field, where `cond := and-chain`.
    private mutating func or(field: String, firstNameRead: Bool) throws(FilterPatternError) -> SpaceCondition {
        var left = try and(field: field, firstNameRead: firstNameRead)
        while p.consume("||") { left = .or(left, try and(field: field, firstNameRead: false)) }
        return left
    }

    private mutating func and(field: String, firstNameRead: Bool) throws(FilterPatternError) -> SpaceCondition {
        var left = SpaceCondition.test(try test(field: field, nameRead: firstNameRead))
        while p.consume("&&") { left = .and(left, .test(try test(field: field, nameRead: false))) }
        return left
    }

    private mutating func test(field: String, nameRead: Bool) throws(FilterPatternError) -> SpaceTest {
        p.skipSpace()
        let start = p.i
        if !nameRead {
            let other = try name()
            guard other == field else {
                throw p.error("a condition inside field '\(field)' must test '\(field)', not '\(other)'", at: start)
            }
        }
        let op: SpaceTest.Operation
        if p.consume("!=") { op = .notEqual }
        else if p.consume("<=") { op = .lessOrEqual }
        else if p.consume(">=") { op = .greaterOrEqual }
        else if p.consume("<") { op = .less }
        else if p.consume(">") { op = .greater }
        else if p.consume("=") { op = .equal }
        else { throw p.error("expected a comparison (=, !=, <, <=, >, >=) after field '\(field)'") }
        p.skipSpace()
        let valueStart = p.i
        let value: SpaceTest.Value
        guard let c = p.peek() else { throw p.error("expected a value") }
        if c == "\"" {
            value = .text(try p.quoted())
        } else if c == "%" {
            regexCount += 1
            value = .regex(try p.regex())
        } else if let (v, text) = p.number() {
            value = .number(v, text: text)
        } else {
            while let k = p.peek(), !(k == " " || k == "\t" || k == "," || k == "]" || k == "&" || k == "|") {
                guard !(k == "\"" || k == "[" || k == "{" || k == "}" || k == "(" || k == ")" || k == "%" || k == "=") else {
                    throw p.error("Invalid character(s) in term '\(k)': quote values that contain it")
                }
                p.i += 1
            }
            guard p.i > valueStart else { throw p.error("expected a value") }
            value = .text(p.text(valueStart..<p.i))
        }
        if op != .equal && op != .notEqual {
            guard case .number = value else {
                throw p.error("Invalid character(s) in term '\(p.text(valueStart..<p.i))': relational operators compare numbers only", at: valueStart)
            }
        }
        let written = p.text(start..<p.i).trimmingSpaces
        return SpaceTest(operation: op, value: value, text: nameRead ? "\(field) \(written)" : written)
    }
}

/// The fields of a log line as space-delimited patterns see them: runs of spaces and tabs separate fields; a field
/// that starts with `"` runs to the next `"`, one that starts with `[` to the next `]` (the delimiters are dropped).
/// An unterminated quote or bracket is an ordinary field.
struct SpaceFields {
    /// Each field's value range (without delimiters) and the offset where it starts in the line (with delimiter).
    var values: [Range<Int>] = []
    var starts: [Int] = []

    /// All the fields of a line (the filtering path walks them with ``SpaceFieldCursor`` instead).
    init(_ b: UnsafeRawBufferPointer) {
        values.reserveCapacity(16)
        starts.reserveCapacity(16)
        var cursor = SpaceFieldCursor(b)
        while let field = cursor.next() {
            values.append(field.value)
            starts.append(field.start)
        }
    }
}

/// Walks a line's fields one at a time without storing them (the filtering path): fields are separated by spaces
/// and tabs; a field opening with `"` or `[` runs to the matching `"` or `]` (when there is one), which are not
/// part of its value.
struct SpaceFieldCursor {
    private let b: UnsafeRawBufferPointer
    private var i = 0

    init(_ b: UnsafeRawBufferPointer) { self.b = b }

    /// The next field's value range and the offset where it starts (with its delimiter); nil at the end.
    mutating func next() -> (value: Range<Int>, start: Int)? {
        let n = b.count
        while i < n, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        guard i < n else { return nil }
        let start = i
        if b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "[") {
            let close = b[i] == UInt8(ascii: "\"") ? UInt8(ascii: "\"") : UInt8(ascii: "]")
            var j = i + 1
            while j < n, b[j] != close { j += 1 }
            if j < n {
                i = j + 1
                return (start + 1..<j, start)
            }
        }
        while i < n, b[i] != 0x20, b[i] != 0x09 { i += 1 }
        return (start..<i, start)
    }
}
