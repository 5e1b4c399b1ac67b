/// Matches a ``SpacePattern`` against a line and extracts its fields.
///
/// Without an ellipsis the pattern needs at least as many fields as it names, and the last named field takes the
/// rest of the line (original text, delimiters and all). With ellipses the fields must line up exactly, each
/// ellipsis taking zero or more fields, reported as `$1..$n` by their position in the line.
struct SpaceMatcher {
    let pattern: SpacePattern

    /// The extracted values (in pattern order) when the line matches, else nil.
    func match(_ line: UnsafeRawBufferPointer) -> [(String, String)]? {
        if pattern.items.isEmpty {
            // `[]` matches every event and reports every field positionally.
            let fields = SpaceFields(line)
            return fields.values.enumerated().map { ("$\($0.offset + 1)", Self.text(line, $0.element)) }
        }
        let fields = SpaceFields(line)
        guard let assignment = assign(line, fields) else { return nil }
        return extracted(line, fields, assignment)
    }

    /// Whether the line matches, without extracting values (the filtering fast path).
    func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        if pattern.items.isEmpty { return true }
        if let prefix = Prefix(pattern) { return prefix.matches(line) }
        return assign(line, SpaceFields(line)) != nil
    }

    /// A pattern whose only ellipsis ends it (`[a, b, status = 5*, ...]`) matches any line with at least its named
    /// fields whose conditions hold: only those fields are split, and a failing condition stops the split.
    /// Compiled once per pattern, so matching copies none of the pattern's items.
    struct Prefix: Sendable {
        let named: Int
        /// The conditions by field index, in field order.
        let conditions: [(field: Int, condition: SpaceCondition)]

        init?(_ pattern: SpacePattern) {
            guard pattern.items.last == .ellipsis, !pattern.items.dropLast().contains(.ellipsis) else { return nil }
            named = pattern.items.count - 1
            conditions = pattern.items.dropLast().enumerated().compactMap { k, item in
                if case .field(_, let condition?) = item { (k, condition) } else { nil }
            }
        }

        func matches(_ line: UnsafeRawBufferPointer) -> Bool {
            var fields = SpaceFieldCursor(line)
            var next = 0
            for k in 0..<named {
                guard let field = fields.next() else { return false }
                if next < conditions.count, conditions[next].field == k {
                    if !SpaceMatcher.holds(conditions[next].condition, SpaceMatcher.text(line, field.value)) { return false }
                    next += 1
                }
            }
            return true
        }
    }

    /// The field each pattern item starts at, when the line matches.
    private func assign(_ line: UnsafeRawBufferPointer, _ fields: SpaceFields) -> [Int]? {
        var assignment: [Int] = []
        if pattern.hasEllipsis {
            guard align(0, 0, fields, line, &assignment) else { return nil }
            return assignment
        }
        let named = pattern.items.count
        guard fields.values.count >= named else { return nil }
        for (k, item) in pattern.items.enumerated() {
            guard case .field(_, let condition?) = item else { continue }
            let value = k == named - 1 ? rest(line, fields, from: k) : Self.text(line, fields.values[k])
            if !Self.holds(condition, value) { return nil }
        }
        return Array(0..<named)
    }

    /// Finds the field each pattern item starts at (`assignment[k]`), ellipses taking any count.
    private func align(_ item: Int, _ field: Int, _ fields: SpaceFields, _ line: UnsafeRawBufferPointer,
                       _ assignment: inout [Int]) -> Bool {
        if item == pattern.items.count { return field == fields.values.count }
        switch pattern.items[item] {
        case .ellipsis:
            let remainingNamed = pattern.items[(item + 1)...].filter { $0 != .ellipsis }.count
            let most = fields.values.count - field - remainingNamed
            guard most >= 0 else { return false }
            // Greedy: the ellipsis takes as many fields as it can, so fields after it align from the end.
            for take in stride(from: most, through: 0, by: -1) {
                assignment.append(field)
                if align(item + 1, field + take, fields, line, &assignment) { return true }
                assignment.removeLast()
            }
            return false
        case .field(_, let condition):
            guard field < fields.values.count else { return false }
            if let condition, !Self.holds(condition, Self.text(line, fields.values[field])) { return false }
            assignment.append(field)
            if align(item + 1, field + 1, fields, line, &assignment) { return true }
            assignment.removeLast()
            return false
        }
    }

    private func extracted(_ line: UnsafeRawBufferPointer, _ fields: SpaceFields, _ assignment: [Int]) -> [(String, String)] {
        var out: [(String, String)] = []
        for (k, item) in pattern.items.enumerated() {
            switch item {
            case .field(let name, _):
                let isLast = k == pattern.items.count - 1 && !pattern.hasEllipsis
                out.append(("$" + name, isLast ? rest(line, fields, from: assignment[k]) : Self.text(line, fields.values[assignment[k]])))
            case .ellipsis:
                let end = k + 1 < assignment.count ? assignment[k + 1] : fields.values.count
                for f in assignment[k]..<end { out.append(("$\(f + 1)", Self.text(line, fields.values[f]))) }
            }
        }
        return out
    }

    /// Field `from` to the end of the line; a single field keeps its delimiters stripped.
    private func rest(_ line: UnsafeRawBufferPointer, _ fields: SpaceFields, from k: Int) -> String {
        if k == fields.values.count - 1 { return Self.text(line, fields.values[k]) }
        var end = line.count
        while end > fields.starts[k], line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        return Self.text(line, fields.starts[k]..<end)
    }

    static func text(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: line[range]), as: UTF8.self)
    }

    static func holds(_ condition: SpaceCondition, _ value: String) -> Bool {
        switch condition {
        case .and(let a, let b): return holds(a, value) && holds(b, value)
        case .or(let a, let b): return holds(a, value) || holds(b, value)
        case .test(let t): return holds(t, value)
        }
    }

    static func holds(_ t: SpaceTest, _ value: String) -> Bool {
        switch t.operation {
        case .equal: return equals(t.value, value)
        case .notEqual: return !equals(t.value, value)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard case .number(let n, _) = t.value, let x = Double(value) else { return false }
            switch t.operation {
            case .less: return x < n
            case .lessOrEqual: return x <= n
            case .greater: return x > n
            default: return x >= n
            }
        }
    }

    private static func equals(_ v: SpaceTest.Value, _ value: String) -> Bool {
        switch v {
        case .text(let pattern): return Glob.matches(pattern, value)
        case .number(let n, let text): return Double(value).map { $0 == n } ?? (value == text)
        case .regex(let r): return r.matches(Array(value.utf8))
        }
    }
}
