/// Parses `{ … }` JSON filter patterns.
///
/// ```
/// pattern    := '{' or '}'
/// or         := and ('||' and)*
/// and        := primary ('&&' primary)*
/// primary    := '(' or ')' | test
/// test       := selector ( op value | 'IS' ('NULL'|'TRUE'|'FALSE') | 'NOT' 'EXISTS' )
/// op         := '=' | '!=' | '<' | '<=' | '>' | '>='
/// value      := "quoted" | number | %regex% | '*' | bare-word
/// ```
/// `&&` binds tighter than `||`. At most one wildcard (`[*]`, `.*`) per selector.
struct JSONPatternParser {
    private var p: PatternScanner
    private(set) var regexCount = 0

    init(_ scalars: [Unicode.Scalar], at start: Int) { p = PatternScanner(scalars, at: start) }

    mutating func parse() throws(FilterPatternError) -> JSONCondition {
        guard p.consume("{") else { throw p.error("a JSON pattern starts with {") }
        let condition = try or()
        guard p.consume("}") else { throw p.error(p.isAtEnd ? "a JSON pattern ends with }" : "expected &&, || or } here") }
        p.skipSpace()
        guard p.isAtEnd else { throw p.error("unexpected text after the closing }") }
        return condition
    }

    private mutating func or() throws(FilterPatternError) -> JSONCondition {
        var left = try and()
        while p.consume("||") { left = .or(left, try and()) }
        return left
    }

    private mutating func and() throws(FilterPatternError) -> JSONCondition {
        var left = try primary()
        while p.consume("&&") { left = .and(left, try primary()) }
        return left
    }

    private mutating func primary() throws(FilterPatternError) -> JSONCondition {
        if p.consume("(") {
            let inner = try or()
            guard p.consume(")") else { throw p.error("expected ) to close the parenthesis") }
            return inner
        }
        return .test(try test())
    }

    private mutating func test() throws(FilterPatternError) -> JSONTest {
        p.skipSpace()
        let start = p.i
        let selector = try self.selector()
        let operation: JSONTest.Operation
        p.skipSpace()
        if p.consumeWord("IS") {
            p.skipSpace()
            let word = p.i
            if p.consumeWord("NULL") { operation = .isNull }
            else if p.consumeWord("TRUE") { operation = .isTrue }
            else if p.consumeWord("FALSE") { operation = .isFalse }
            else if p.consumeWord("NOT") {
                throw p.error("Invalid character(s) in term 'NOT': IS NOT is not supported; use != or NOT EXISTS", at: word)
            }
            else { throw p.error("expected NULL, TRUE or FALSE after IS") }
        } else if p.consumeWord("NOT") {
            guard p.consumeWord("EXISTS") else { throw p.error("expected EXISTS after NOT") }
            operation = .notExists
        } else if p.consumeWord("EXISTS") {
            throw p.error("Invalid character(s) in term 'EXISTS': EXISTS is not supported; use '= *' for a field that holds a value, or NOT EXISTS", at: p.i - 6)
        } else if p.consume("!=") {
            operation = .notEqual(try equalityValue(negated: true))
        } else if p.consume("<=") {
            operation = .lessOrEqual(try numericValue("<="))
        } else if p.consume(">=") {
            operation = .greaterOrEqual(try numericValue(">="))
        } else if p.consume("<") {
            operation = .less(try numericValue("<"))
        } else if p.consume(">") {
            operation = .greater(try numericValue(">"))
        } else if p.consume("=") {
            operation = .equal(try equalityValue(negated: false))
        } else {
            throw p.error("expected a comparison (=, !=, <, <=, >, >=), IS NULL, IS TRUE, IS FALSE or NOT EXISTS after \(selector.text)")
        }
        return JSONTest(selector: selector, operation: operation, position: start, text: p.text(start..<p.i).trimmingSpaces)
    }

    /// Parses a whole string as one selector, e.g. a metric filter's `metricValue` of `$.latency`.
    static func selector(_ text: String) throws(FilterPatternError) -> JSONSelector {
        var parser = JSONPatternParser(Array(text.unicodeScalars), at: 0)
        let selector = try parser.selector()
        guard parser.p.isAtEnd else { throw parser.p.error("unexpected text after the selector") }
        return selector
    }

    mutating func selector() throws(FilterPatternError) -> JSONSelector {
        let start = p.i
        guard p.peek() == "$" else { throw p.error("expected a selector starting with $, such as $.level") }
        p.i += 1
        var steps: [JSONSelector.Step] = []
        var wildcards = 0
        while let c = p.peek() {
            if c == "." {
                p.i += 1
                if p.peek() == "*" {
                    p.i += 1
                    steps.append(.wildcard)
                    wildcards += 1
                } else if p.peek() == "[" {
                    continue
                } else {
                    let keyStart = p.i
                    while let k = p.peek(), Self.isKeyScalar(k) { p.i += 1 }
                    guard p.i > keyStart else { throw p.error("expected a key after '.'") }
                    steps.append(.key(p.text(keyStart..<p.i)))
                }
            } else if c == "[" {
                let open = p.i
                p.i += 1
                if p.peek() == "*" && p.peek(1) == "]" {
                    p.i += 2
                    steps.append(.wildcard)
                    wildcards += 1
                } else if p.peek() == "\"" || p.peek() == "'" {
                    let quote = p.peek()!
                    p.i += 1
                    let keyStart = p.i
                    while let k = p.peek(), k != quote { p.i += 1 }
                    guard p.peek() == quote, p.peek(1) == "]" else { throw p.error("unterminated bracketed key", at: open) }
                    steps.append(.key(p.text(keyStart..<p.i)))
                    p.i += 2
                } else {
                    let digitsStart = p.i
                    while let d = p.peek(), ("0"..."9").contains(d) { p.i += 1 }
                    guard p.i > digitsStart, p.peek() == "]", let n = Int(p.text(digitsStart..<p.i)) else {
                        throw p.error("Invalid character(s) in term '\(p.text(open..<min(p.i + 1, p.s.count)))': an array index is [n] or [*]", at: open)
                    }
                    p.i += 1
                    steps.append(.index(n))
                }
            } else {
                break
            }
        }
        guard !steps.isEmpty else { throw p.error("a selector needs at least one step after $, such as $.level", at: start) }
        guard wildcards <= 1 else {
            throw p.error("Your filter pattern has a JSON path selector that exceeds the maximum of 1 wildcard allowed per json selector.", at: start)
        }
        return JSONSelector(steps: steps, text: p.text(start..<p.i))
    }

    private static func isKeyScalar(_ c: Unicode.Scalar) -> Bool {
        c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" || c == "@" || c == "$" || c == ":" || c.value >= 0x80
    }

    private mutating func numericValue(_ op: String) throws(FilterPatternError) -> Double {
        p.skipSpace()
        let start = p.i
        guard let (v, _) = p.number() else {
            var end = p.i
            while end < p.s.count, !(p.s[end] == " " || p.s[end] == "}" || p.s[end] == ")") { end += 1 }
            throw p.error("Invalid character(s) in term '\(p.text(start..<end))': \(op) compares numbers only", at: start)
        }
        return v
    }

    private mutating func equalityValue(negated: Bool) throws(FilterPatternError) -> JSONValueMatcher {
        p.skipSpace()
        let start = p.i
        guard let c = p.peek() else { throw p.error("expected a value after the comparison") }
        if c == "\"" { return .text(try p.quoted()) }
        if c == "%" {
            regexCount += 1
            return .regex(try p.regex())
        }
        if let (v, text) = p.number() { return .number(v, text: text) }
        if c == "*", let next = p.peek(1), next == " " || next == "}" || next == ")" || next == "&" || next == "|" || next == "\t" {
            p.i += 1
            if negated { throw p.error("'!= *' is not supported; use NOT EXISTS", at: start) }
            return .anyScalar
        }
        if c == "*" && p.peek(1) == nil {
            p.i += 1
            return .anyScalar
        }
        while let k = p.peek(), !(k == " " || k == "\t" || k == "}" || k == ")" || k == "&" || k == "|") {
            guard Self.isKeyScalar(k) || k == "*" || k == "." || k == "/" || k == "+" else {
                throw p.error("Invalid character(s) in term '\(k)': quote values that contain it")
            }
            p.i += 1
        }
        let word = p.text(start..<p.i)
        guard !word.isEmpty else { throw p.error("expected a value after the comparison") }
        if word == "null" { throw p.error("'= null' is not supported; use IS NULL", at: start) }
        return .text(word)
    }
}
