/// Evaluates a ``JSONCondition`` against one document, reading each selector at most once.
struct JSONEvaluation {
    let document: JSONDocument
    private var leavesBySelector: [String: [JSONDocument.Leaf]?] = [:]

    init(document: JSONDocument) { self.document = document }

    mutating func leaves(_ selector: JSONSelector) -> [JSONDocument.Leaf]? {
        if let cached = leavesBySelector[selector.text] { return cached }
        let found = document.leaves(selector)
        leavesBySelector[selector.text] = found
        return found
    }

    mutating func evaluate(_ condition: JSONCondition) -> Bool {
        switch condition {
        case .and(let a, let b): evaluate(a) && evaluate(b)
        case .or(let a, let b): evaluate(a) || evaluate(b)
        case .test(let t): test(t)
        }
    }

    /// A condition that is a single test reads its selector once anyway: no cache needed.
    static func test(_ t: JSONTest, in document: JSONDocument) -> Bool {
        guard let leaves = document.leaves(t.selector) else { return false }
        if case .notExists = t.operation { return leaves.isEmpty }
        return leaves.contains { holds(t.operation, $0) }
    }

    mutating func test(_ t: JSONTest) -> Bool {
        // A document that is not valid JSON matches no JSON pattern.
        guard let leaves = leaves(t.selector) else { return false }
        if case .notExists = t.operation { return leaves.isEmpty }
        return leaves.contains { Self.holds(t.operation, $0) }
    }

    /// Whether one selected value satisfies the operation (CloudWatch's typing rules).
    static func holds(_ op: JSONTest.Operation, _ leaf: JSONDocument.Leaf) -> Bool {
        switch op {
        case .equal(let v): return equals(v, leaf)
        case .notEqual(let v): return leaf.isScalarStringOrNumber && !equals(v, leaf)
        case .less(let n): if case .number(let x, _) = leaf { return x < n } else { return false }
        case .lessOrEqual(let n): if case .number(let x, _) = leaf { return x <= n } else { return false }
        case .greater(let n): if case .number(let x, _) = leaf { return x > n } else { return false }
        case .greaterOrEqual(let n): if case .number(let x, _) = leaf { return x >= n } else { return false }
        case .isNull:
            switch leaf {
            case .null, .array(containsNull: true): return true
            default: return false
            }
        case .isTrue: return leaf == .bool(true)
        case .isFalse: return leaf == .bool(false)
        case .notExists: return false
        }
    }

    static func equals(_ v: JSONValueMatcher, _ leaf: JSONDocument.Leaf) -> Bool {
        switch (v, leaf) {
        case (.anyScalar, _): return leaf.isScalarStringOrNumber
        case (.text(let pattern), .string(let s)): return Glob.matches(pattern, s)
        case (.text(let pattern), .number(_, let text)): return Glob.matches(pattern, text)
        case (.number(let n, _), .number(let x, _)): return n == x
        case (.number(_, let text), .string(let s)): return s == text
        case (.regex(let r), .string(let s)): return r.matches(Array(s.utf8))
        default: return false
        }
    }
}

/// `*` wildcards in filter-pattern text values: `*` matches any run of characters; everything else is literal.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        guard pattern.utf8.contains(UInt8(ascii: "*")) else { return pattern == text }
        var pattern = pattern, text = text
        return pattern.withUTF8 { p in text.withUTF8 { t in matches(p, t) } }
    }

    private static func matches(_ p: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
