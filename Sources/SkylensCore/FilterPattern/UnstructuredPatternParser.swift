/// The lexer/parser of unstructured patterns: whitespace-separated terms, each optionally prefixed by `?` or `-`,
/// bare or double-quoted (`\"` and `\\` escape inside quotes).
struct UnstructuredPatternParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    mutating func parse() throws(FilterPatternError) -> [FilterPattern.Term] {
        skipSpace()
        if let first = peek() {
            switch first {
            case "{":
                throw FilterPatternError(position: index, message: "JSON filter patterns ({ … }) are not supported yet")
            case "[":
                throw FilterPatternError(position: index, message: "space-delimited filter patterns ([ … ]) are not supported yet")
            case "%":
                throw FilterPatternError(position: index, message: "regular-expression filter patterns (%…%) are not supported yet")
            default:
                break
            }
        }
        var terms: [FilterPattern.Term] = []
        while index < scalars.count {
            let start = index
            var kind = FilterPattern.Term.Kind.required
            if peek() == "?" { kind = .optional; index += 1 } else if peek() == "-" { kind = .excluded; index += 1 }
            let text: String
            if peek() == "\"" {
                text = try quoted()
            } else {
                text = try bare(start: start)
            }
            // An empty quoted term matches everything; it adds no condition.
            if !text.isEmpty {
                terms.append(.init(kind: kind, text: text, position: start))
            } else if kind != .required {
                throw FilterPatternError(position: start, message: "an empty term cannot be optional or excluded")
            }
            let hadSpace = skipSpace()
            if !hadSpace && index < scalars.count {
                throw FilterPatternError(position: index, message: "expected whitespace between terms")
            }
        }
        return terms
    }

    private func peek() -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = index
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { index += 1 }
        return index > start
    }

    private mutating func quoted() throws(FilterPatternError) -> String {
        let open = index
        index += 1
        var out = String.UnicodeScalarView()
        while let c = peek() {
            index += 1
            if c == "\"" { return String(out) }
            if c == "\\", let next = peek(), next == "\"" || next == "\\" {
                out.append(next)
                index += 1
                continue
            }
            out.append(c)
        }
        throw FilterPatternError(position: open, message: "unterminated quoted term")
    }

    private mutating func bare(start: Int) throws(FilterPatternError) -> String {
        var out = String.UnicodeScalarView()
        while let c = peek(), !(c == " " || c == "\t" || c == "\n" || c == "\r") {
            guard Self.isBareTermScalar(c) else {
                throw FilterPatternError(position: index, message: "Invalid character(s) in term '\(c)'; quote terms that contain it")
            }
            out.append(c)
            index += 1
        }
        if out.isEmpty {
            throw FilterPatternError(position: start, message: "expected a term")
        }
        return String(out)
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
