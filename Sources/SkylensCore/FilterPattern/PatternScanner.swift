/// Character-level reading shared by the JSON and space-delimited pattern parsers.
struct PatternScanner {
    let s: [Unicode.Scalar]
    var i: Int

    init(_ s: [Unicode.Scalar], at i: Int) {
        self.s = s
        self.i = i
    }

    var isAtEnd: Bool { i >= s.count }
    func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    mutating func skipSpace() {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1 }
    }

    /// Consumes `text` if it comes next (after whitespace).
    mutating func consume(_ text: String) -> Bool {
        skipSpace()
        let t = Array(text.unicodeScalars)
        guard i + t.count <= s.count, Array(s[i..<i + t.count]) == t else { return false }
        i += t.count
        return true
    }

    /// Consumes a keyword (letters) followed by a non-letter.
    mutating func consumeWord(_ word: String) -> Bool {
        skipSpace()
        let t = Array(word.unicodeScalars)
        guard i + t.count <= s.count, Array(s[i..<i + t.count]) == t else { return false }
        if let next = peek(t.count), next.properties.isAlphabetic || next == "_" { return false }
        i += t.count
        return true
    }

    func text(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(s[range])) }

    func error(_ message: String, at position: Int? = nil) -> FilterPatternError {
        FilterPatternError(position: position ?? i, message: message)
    }

    /// A double-quoted string with `\"` and `\\` escapes; the scanner is on the opening quote.
    mutating func quoted() throws(FilterPatternError) -> String {
        let open = i
        i += 1
        var out = String.UnicodeScalarView()
        while let c = peek() {
            i += 1
            if c == "\"" { return String(out) }
            if c == "\\", let next = peek(), next == "\"" || next == "\\" {
                out.append(next)
                i += 1
                continue
            }
            out.append(c)
        }
        throw error("unterminated quoted string", at: open)
    }

    /// A `%regex%`; the scanner is on the opening percent sign.
    mutating func regex() throws(FilterPatternError) -> PatternRegex {
        let open = i
        i += 1
        var end = i
        while end < s.count, s[end] != "%" {
            if s[end] == "\\" { end += 1 }
            end += 1
        }
        guard end < s.count else { throw error("unterminated regular expression: a closing % is missing", at: open) }
        let regex = try PatternRegex(text(i..<end), offset: i)
        i = end + 1
        return regex
    }

    /// A number literal (`-1.5e+3`) if one comes next, with its text.
    mutating func number() -> (Double, String)? {
        let start = i
        var j = i
        if j < s.count, s[j] == "-" || s[j] == "+" { j += 1 }
        var digits = 0
        while j < s.count, ("0"..."9").contains(s[j]) { j += 1; digits += 1 }
        if j < s.count, s[j] == "." {
            j += 1
            while j < s.count, ("0"..."9").contains(s[j]) { j += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if j < s.count, s[j] == "e" || s[j] == "E" {
            var k = j + 1
            if k < s.count, s[k] == "-" || s[k] == "+" { k += 1 }
            var expDigits = 0
            while k < s.count, ("0"..."9").contains(s[k]) { k += 1; expDigits += 1 }
            if expDigits > 0 { j = k }
        }
        // A number is followed by whitespace, an operator or a closing symbol (`123.123.*` is a word, not a number).
        if j < s.count, !(s[j] == " " || s[j] == "\t" || s[j] == "}" || s[j] == ")" || s[j] == "]" || s[j] == ","
                          || s[j] == "&" || s[j] == "|") {
            return nil
        }
        let t = text(start..<j)
        guard let v = Double(t.hasPrefix("+") ? String(t.dropFirst()) : t) else { return nil }
        i = j
        return (v, t)
    }
}
