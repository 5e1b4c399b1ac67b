/// The lexer/parser of unstructured patterns: whitespace-separated terms, each optionally prefixed by `?` or `-`,
/// bare, double-quoted (`\"` and `\\` escape inside quotes) or a `%regex%`.
struct UnstructuredPatternParser {
    private var p: PatternScanner

    init(_ scalars: [Unicode.Scalar]) { p = PatternScanner(scalars, at: 0) }

    mutating func parse() throws(FilterPatternError) -> [FilterPattern.Term] {
        var terms: [FilterPattern.Term] = []
        p.skipSpace()
        while !p.isAtEnd {
            let start = p.i
            var kind = FilterPattern.Term.Kind.required
            if p.peek() == "?" { kind = .optional; p.i += 1 } else if p.peek() == "-", p.peek(1) != nil, p.peek(1) != " " {
                kind = .excluded
                p.i += 1
            }
            let match: FilterPattern.Term.Match
            switch p.peek() {
            case "\"":
                match = .text(try p.quoted())
            case "%":
                match = .regex(try p.regex())
            case "{", "[":
                throw p.error("Invalid character(s) in term '\(p.peek()!)': JSON ({ … }) and space-delimited ([ … ]) patterns must stand alone; quote the term to search for the character")
            default:
                match = .text(try bare(start: start))
            }
            // An empty quoted term matches everything; it adds no condition.
            if case .text(let t) = match, t.isEmpty {
                if kind != .required { throw p.error("an empty term cannot be optional or excluded", at: start) }
            } else {
                terms.append(.init(kind: kind, match: match, position: start))
            }
            let before = p.i
            p.skipSpace()
            if p.i == before && !p.isAtEnd {
                throw p.error("expected whitespace between terms")
            }
        }
        return terms
    }

    private mutating func bare(start: Int) throws(FilterPatternError) -> String {
        let termStart = p.i
        while let c = p.peek(), !(c == " " || c == "\t" || c == "\n" || c == "\r") {
            guard Self.isBareTermScalar(c) else {
                var end = p.i
                while end < p.s.count, !(p.s[end] == " " || p.s[end] == "\t") { end += 1 }
                throw p.error("Invalid character(s) in term '\(p.text(termStart..<end))': '\(c)' must be inside a quoted term")
            }
            p.i += 1
        }
        guard p.i > termStart else { throw p.error("expected a term", at: start) }
        return p.text(termStart..<p.i)
    }

    /// Letters, digits, `_`, `.`, `-`, `:`, `/`, `@`, `+`, `,`, and any non-ASCII character may stand unquoted.
    private static func isBareTermScalar(_ c: Unicode.Scalar) -> Bool {
        if c.value >= 0x80 { return true }
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-", ":", "/", "@", "+", ",":
            return true
        default:
            return false
        }
    }
}
