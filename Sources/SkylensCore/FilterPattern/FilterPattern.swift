/// A parsed CloudWatch Logs filter pattern: the one engine behind FilterLogEvents, TestMetricFilter, live tail,
/// and (later) metric and subscription filters.
///
/// ```
/// text ──► parse ──┬─ unstructured:    terms, "phrases", ?alternatives, -exclusions, %regex%
///                  ├─ JSON:            { $.a.b = "v" && ($.n > 1 || $.x NOT EXISTS) }
///                  └─ space-delimited: [ip, user, ..., status = 4*, bytes > 1000]
///          compile ──► CompiledFilterPattern (matches raw UTF-8 bytes; explains non-matches)
/// ```
/// Anything outside the language is a ``FilterPatternError`` with the position of the problem: unsupported syntax
/// never matches everything.
package struct FilterPattern: Sendable, Equatable {
    /// One unstructured term.
    package struct Term: Sendable, Equatable {
        package enum Kind: Sendable, Equatable { case required, optional, excluded }
        package enum Match: Sendable, Equatable {
            /// A case-sensitive substring.
            case text(String)
            /// A `%regex%` searched anywhere in the message.
            case regex(PatternRegex)
        }
        package var kind: Kind
        package var match: Match
        /// Where the term starts in the pattern text (0-based characters).
        package var position: Int

        /// The term's text, for the single-term fast path and for explanations.
        package var text: String {
            switch match {
            case .text(let t): t
            case .regex(let r): "%\(r.source)%"
            }
        }
    }

    package enum Body: Sendable, Equatable {
        /// Terms in source order; none means match-all.
        case unstructured([Term])
        case json(JSONCondition)
        case spaceDelimited(SpacePattern)
    }

    /// The source text, as given.
    package var source: String
    package var body: Body

    /// CloudWatch's quota: at most two regular expressions in one filter pattern.
    package static let maxRegexes = 2
    /// CloudWatch's limit on a filter pattern's length.
    package static let maxLength = 1_024

    /// Parses `text`, throwing a positioned error for anything outside the language.
    package static func parse(_ text: String) throws(FilterPatternError) -> FilterPattern {
        guard text.count <= maxLength else {
            throw FilterPatternError(position: maxLength, message: "a filter pattern is at most \(maxLength) characters")
        }
        let scalars = Array(text.unicodeScalars)
        var start = 0
        while start < scalars.count, scalars[start] == " " || scalars[start] == "\t" || scalars[start] == "\n" || scalars[start] == "\r" {
            start += 1
        }
        let body: Body
        let regexes: Int
        switch start < scalars.count ? scalars[start] : nil {
        case "{":
            var parser = JSONPatternParser(scalars, at: start)
            body = .json(try parser.parse())
            regexes = parser.regexCount
        case "[":
            var parser = SpacePatternParser(scalars, at: start)
            body = .spaceDelimited(try parser.parse())
            regexes = parser.regexCount
        default:
            var parser = UnstructuredPatternParser(scalars)
            let terms = try parser.parse()
            body = .unstructured(terms)
            regexes = terms.filter { if case .regex = $0.match { true } else { false } }.count
        }
        guard regexes <= maxRegexes else {
            throw FilterPatternError(position: start, message: "a filter pattern can hold at most \(maxRegexes) regular expressions; this one has \(regexes)")
        }
        return FilterPattern(source: text, body: body)
    }

    /// The matcher that applies this pattern to raw message bytes.
    package func compile() -> CompiledFilterPattern { CompiledFilterPattern(self) }
}
