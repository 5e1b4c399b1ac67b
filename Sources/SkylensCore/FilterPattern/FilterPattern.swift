/// A parsed CloudWatch Logs filter pattern.
///
/// Supported today: the unstructured language (terms, quoted phrases, `?term` alternatives, `-term` exclusions and
/// the empty match-all pattern). JSON (`{ … }`), space-delimited (`[ … ]`) and regular-expression (`%…%`) patterns
/// are rejected with a positioned ``FilterPatternError``: unsupported syntax never matches everything.
package struct FilterPattern: Sendable, Equatable {
    /// One unstructured term: a case-sensitive substring.
    package struct Term: Sendable, Equatable {
        package enum Kind: Sendable, Equatable { case required, optional, excluded }
        package var kind: Kind
        package var text: String
        /// Where the term starts in the pattern text (0-based characters).
        package var position: Int
    }

    /// The source text, as given.
    package var source: String
    /// Terms in source order; empty means match-all.
    package var terms: [Term]

    /// Parses `text`, throwing a positioned error for anything outside the supported language.
    package static func parse(_ text: String) throws(FilterPatternError) -> FilterPattern {
        var parser = UnstructuredPatternParser(Array(text.unicodeScalars))
        return FilterPattern(source: text, terms: try parser.parse())
    }

    /// The matcher that applies this pattern to raw message bytes.
    package func compile() -> CompiledFilterPattern { CompiledFilterPattern(self) }
}
