import CByteSearch

/// The regular-expression subset of CloudWatch Logs filter patterns (`%…%`), compiled to a matcher over UTF-8 bytes.
///
/// Supported: literals, `.`, character classes `[abc]`, `[a-z]`, `[^…]`, the escapes `\d \D \w \W \s \S \xhh`
/// and escaped symbols, the quantifiers `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}`, top-level alternation `|`, and the
/// anchors `^` and `$`. Groups, look-arounds and back-references (anything with parentheses) are rejected.
///
/// Matching is an unanchored search by backtracking with a failure memo over (piece, position): with no groups or
/// back-references the outcome from a state never changes, so each state is explored at most once.
package struct PatternRegex: Sendable, Equatable {
    /// What one piece consumes: a byte, any character, or one of a set of bytes.
    enum Atom: Sendable, Equatable {
        case byte(UInt8)
        case any
        case set(ByteSet, negated: Bool)
    }

    struct Piece: Sendable, Equatable {
        var atom: Atom
        var min: Int
        var max: Int
    }

    struct Alternative: Sendable, Equatable {
        var anchoredStart = false
        var anchoredEnd = false
        var pieces: [Piece] = []
        /// The longest run of bytes every match must contain: searched with memmem before backtracking.
        var requiredLiteral: [UInt8] = []
        /// Whether every match starts with ``requiredLiteral``: then only its occurrences are tried as starts.
        var literalIsPrefix = false
    }

    /// The source between the percent signs.
    package let source: String
    let alternatives: [Alternative]

    package static let maxRepeat = 1_000

    /// Parses `source` (the text between `%` and `%`); `offset` positions errors within the whole pattern.
    package init(_ source: String, offset: Int) throws(FilterPatternError) {
        self.source = source
        var parser = RegexParser(Array(source.unicodeScalars), offset: offset)
        alternatives = try parser.parse()
    }

    /// Byte strings of which every match contains one (each alternative's required run); nil when an alternative
    /// has none.
    package var requiredLiterals: [[UInt8]]? {
        let literals = alternatives.map(\.requiredLiteral)
        return literals.contains { $0.isEmpty } ? nil : literals
    }

    /// Whether the regex matches anywhere in `bytes`.
    package func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for alternative in alternatives where Self.matches(alternative, bytes) { return true }
        return false
    }

    package func matches(_ bytes: some Collection<UInt8>) -> Bool {
        if let r = bytes.withContiguousStorageIfAvailable({ matches(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(bytes).withUnsafeBytes { matches($0) }
    }

    private static func matches(_ alt: Alternative, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if !alt.requiredLiteral.isEmpty {
            let found = alt.requiredLiteral.withUnsafeBytes { needle -> Bool in
                guard let base = bytes.baseAddress, bytes.count >= needle.count else { return false }
                return skylens_find(base, bytes.count, needle.baseAddress, needle.count) != nil
            }
            if !found { return false }
        }
        var search = Backtracker(alt: alt, bytes: bytes)
        if alt.anchoredStart { return search.match(0, 0) }
        if alt.literalIsPrefix, let base = bytes.baseAddress {
            // Each match begins with the literal: try only where it occurs.
            return alt.requiredLiteral.withUnsafeBytes { needle -> Bool in
                var from = 0
                while from + needle.count <= bytes.count,
                      let hit = skylens_find(base + from, bytes.count - from, needle.baseAddress, needle.count) {
                    let start = base.distance(to: UnsafeRawPointer(hit))
                    if search.match(0, start) { return true }
                    from = start + 1
                }
                return false
            }
        }
        var start = 0
        while start <= bytes.count {
            if search.match(0, start) { return true }
            if start == bytes.count { break }
            start += scalarLength(bytes, start)
        }
        return false
    }

    /// The byte length of the UTF-8 scalar starting at `i` (1 for invalid bytes).
    static func scalarLength(_ bytes: UnsafeRawBufferPointer, _ i: Int) -> Int {
        let b = bytes[i]
        let n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return min(n, bytes.count - i)
    }

    /// Depth-first matching of one alternative with memoised failures.
    struct Backtracker {
        let alt: Alternative
        let bytes: UnsafeRawBufferPointer
        var failed: [UInt64]
        let width: Int

        init(alt: Alternative, bytes: UnsafeRawBufferPointer) {
            self.alt = alt
            self.bytes = bytes
            width = bytes.count + 1
            failed = Array(repeating: 0, count: (alt.pieces.count * width + 63) / 64 + 1)
        }

        mutating func match(_ piece: Int, _ position: Int) -> Bool {
            if piece == alt.pieces.count { return !alt.anchoredEnd || position == bytes.count }
            let key = piece * width + position
            if failed[key >> 6] & (1 << UInt64(key & 63)) != 0 { return false }
            let p = alt.pieces[piece]
            // Greedy: collect the end positions of 0..max repetitions, then try the longest first.
            var ends = [position]
            var at = position
            while ends.count - 1 < p.max, at < bytes.count, let next = step(p.atom, at) {
                at = next
                ends.append(at)
            }
            if ends.count - 1 >= p.min {
                for k in stride(from: ends.count - 1, through: p.min, by: -1) where match(piece + 1, ends[k]) {
                    return true
                }
            }
            failed[key >> 6] |= 1 << UInt64(key & 63)
            return false
        }

        /// Where one `atom` ends if it matches at `i`.
        func step(_ atom: Atom, _ i: Int) -> Int? {
            switch atom {
            case .byte(let b):
                return bytes[i] == b ? i + 1 : nil
            case .any:
                return i + PatternRegex.scalarLength(bytes, i)
            case .set(let set, let negated):
                let b = bytes[i]
                if negated {
                    return set.contains(b) ? nil : i + PatternRegex.scalarLength(bytes, i)
                }
                return set.contains(b) ? i + 1 : nil
            }
        }
    }
}

/// A set of bytes as a 256-bit map.
struct ByteSet: Sendable, Equatable {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: ByteSet, b: ByteSet) -> Bool { a.bits == b.bits }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: bits.0 |= bit
        case 1: bits.1 |= bit
        case 2: bits.2 |= bit
        default: bits.3 |= bit
        }
    }

    mutating func insert(_ range: ClosedRange<UInt8>) { for b in range { insert(b) } }
    mutating func formUnion(_ other: ByteSet) {
        bits = (bits.0 | other.bits.0, bits.1 | other.bits.1, bits.2 | other.bits.2, bits.3 | other.bits.3)
    }

    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return bits.0 & bit != 0
        case 1: return bits.1 & bit != 0
        case 2: return bits.2 & bit != 0
        default: return bits.3 & bit != 0
        }
    }

    var inverted: ByteSet {
        var s = ByteSet()
        s.bits = (~bits.0, ~bits.1, ~bits.2, ~bits.3)
        return s
    }

    static let digits: ByteSet = { var s = ByteSet(); s.insert(48...57); return s }()
    static let word: ByteSet = { var s = ByteSet(); s.insert(48...57); s.insert(65...90); s.insert(97...122); s.insert(95); return s }()
    static let space: ByteSet = { var s = ByteSet(); for b: UInt8 in [9, 10, 11, 12, 13, 32] { s.insert(b) }; return s }()
}

/// Parses the regex subset into alternatives of pieces.
struct RegexParser {
    private let s: [Unicode.Scalar]
    private let offset: Int
    private var i = 0

    init(_ scalars: [Unicode.Scalar], offset: Int) {
        s = scalars
        self.offset = offset
    }

    private func fail(_ message: String, at position: Int? = nil) -> FilterPatternError {
        FilterPatternError(position: offset + (position ?? i), message: message)
    }

    mutating func parse() throws(FilterPatternError) -> [PatternRegex.Alternative] {
        guard !s.isEmpty else { throw fail("an empty regular expression (%%) matches nothing useful; remove it or add an expression") }
        var alternatives: [PatternRegex.Alternative] = []
        var current = PatternRegex.Alternative()
        var atAlternativeStart = true
        while i < s.count {
            let c = s[i]
            switch c {
            case "|":
                alternatives.append(try finish(current))
                current = PatternRegex.Alternative()
                atAlternativeStart = true
                i += 1
                continue
            case "^":
                guard atAlternativeStart else { throw fail("'^' is only allowed at the start of an alternative") }
                current.anchoredStart = true
                i += 1
            case "$":
                guard i + 1 == s.count || s[i + 1] == "|" else { throw fail("'$' is only allowed at the end of an alternative") }
                current.anchoredEnd = true
                i += 1
            case "(", ")":
                throw fail("Invalid character(s) in term '%\(String(String.UnicodeScalarView(s[0...i])))': groups, look-arounds and back-references are not supported in filter-pattern regular expressions")
            case "*", "+", "?", "{":
                throw fail("'\(c)' has nothing to repeat")
            default:
                var atoms = try atom()
                let (lo, hi) = try quantifier()
                if atoms.count > 1 {
                    // A multi-byte literal character: only its last byte takes the quantifier.
                    guard lo == 1 && hi == 1 else {
                        throw fail("quantifiers after non-ASCII characters are not supported; use a character class")
                    }
                }
                let last = atoms.removeLast()
                for a in atoms { current.pieces.append(.init(atom: a, min: 1, max: 1)) }
                current.pieces.append(.init(atom: last, min: lo, max: hi))
            }
            atAlternativeStart = false
        }
        alternatives.append(try finish(current))
        return alternatives
    }

    private func finish(_ alt: PatternRegex.Alternative) throws(FilterPatternError) -> PatternRegex.Alternative {
        var alt = alt
        guard !alt.pieces.isEmpty || alt.anchoredStart || alt.anchoredEnd else { throw fail("an empty alternative in a regular expression") }
        var run: [UInt8] = []
        var runStart = 0
        for (k, piece) in alt.pieces.enumerated() {
            if case .byte(let b) = piece.atom, piece.min == 1, piece.max == 1 {
                run.append(b)
                if run.count > alt.requiredLiteral.count { alt.requiredLiteral = run; alt.literalIsPrefix = runStart == 0 }
            } else if case .byte(let b) = piece.atom, piece.min >= 1 {
                // `x+` or `x{2,}`: at least one x must appear; it ends the literal run.
                run.append(b)
                if run.count > alt.requiredLiteral.count { alt.requiredLiteral = run; alt.literalIsPrefix = runStart == 0 }
                run = []
                runStart = k + 1
            } else {
                run = []
                runStart = k + 1
            }
        }
        return alt
    }

    /// One character (or class, or escape) as the atoms it matches in sequence.
    private mutating func atom() throws(FilterPatternError) -> [PatternRegex.Atom] {
        let c = s[i]
        i += 1
        switch c {
        case ".":
            return [.any]
        case "[":
            return [try characterClass()]
        case "\\":
            return [try escape(inClass: false).atom]
        default:
            return Array(String(c).utf8).map { .byte($0) }
        }
    }

    private enum Escaped {
        case byte(UInt8)
        case set(ByteSet, negated: Bool)
        var atom: PatternRegex.Atom {
            switch self {
            case .byte(let b): .byte(b)
            case .set(let s, let n): .set(s, negated: n)
            }
        }
    }

    private mutating func escape(inClass: Bool) throws(FilterPatternError) -> Escaped {
        guard i < s.count else { throw fail("a regular expression cannot end with '\\'") }
        let c = s[i]
        i += 1
        switch c {
        case "d": return .set(.digits, negated: false)
        case "D": return .set(.digits, negated: true)
        case "w": return .set(.word, negated: false)
        case "W": return .set(.word, negated: true)
        case "s": return .set(.space, negated: false)
        case "S": return .set(.space, negated: true)
        case "t": return .byte(9)
        case "n": return .byte(10)
        case "r": return .byte(13)
        case "x":
            guard i + 2 <= s.count, let v = UInt8(String(String.UnicodeScalarView(s[i..<i + 2])), radix: 16) else {
                throw fail("\\x needs two hexadecimal digits", at: i - 2)
            }
            i += 2
            return .byte(v)
        default:
            guard c.isASCII, !(c.properties.isAlphabetic || ("0"..."9").contains(c)) else {
                throw fail("unknown escape '\\\(c)'", at: i - 2)
            }
            return .byte(UInt8(c.value))
        }
    }

    private mutating func characterClass() throws(FilterPatternError) -> PatternRegex.Atom {
        let open = i - 1
        var negated = false
        if i < s.count, s[i] == "^" { negated = true; i += 1 }
        var set = ByteSet()
        var first = true
        while i < s.count {
            let c = s[i]
            if c == "]" && !first {
                i += 1
                return .set(set, negated: negated)
            }
            first = false
            var low: UInt8
            if c == "\\" {
                i += 1
                switch try escape(inClass: true) {
                case .byte(let b): low = b
                case .set(let other, let n):
                    set.formUnion(n ? other.inverted : other)
                    continue
                }
            } else {
                guard c.isASCII else { throw fail("character classes take ASCII characters only") }
                low = UInt8(c.value)
                i += 1
            }
            if i + 1 < s.count, s[i] == "-", s[i + 1] != "]" {
                i += 1
                var high: UInt8
                if s[i] == "\\" {
                    i += 1
                    guard case .byte(let b) = try escape(inClass: true) else { throw fail("a range cannot end in a class escape") }
                    high = b
                } else {
                    guard s[i].isASCII else { throw fail("character classes take ASCII characters only") }
                    high = UInt8(s[i].value)
                    i += 1
                }
                guard low <= high else { throw fail("the range \(Character(Unicode.Scalar(low)))-\(Character(Unicode.Scalar(high))) is reversed") }
                set.insert(low...high)
            } else {
                set.insert(low)
            }
        }
        throw fail("unterminated character class", at: open)
    }

    private mutating func quantifier() throws(FilterPatternError) -> (Int, Int) {
        guard i < s.count else { return (1, 1) }
        switch s[i] {
        case "*": i += 1; return (0, PatternRegex.maxRepeat)
        case "+": i += 1; return (1, PatternRegex.maxRepeat)
        case "?": i += 1; return (0, 1)
        case "{":
            let open = i
            i += 1
            var text = ""
            while i < s.count, s[i] != "}" { text.unicodeScalars.append(s[i]); i += 1 }
            guard i < s.count else { throw fail("unterminated {m,n} quantifier", at: open) }
            i += 1
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let lo = Int(parts[0]) else { throw fail("a quantifier is {m}, {m,} or {m,n}", at: open) }
            let hi = parts.count == 1 ? lo : (parts[1].isEmpty ? PatternRegex.maxRepeat : Int(parts[1]) ?? -1)
            guard lo >= 0, hi >= lo, hi <= PatternRegex.maxRepeat else {
                throw fail("a quantifier needs 0 ≤ m ≤ n ≤ \(PatternRegex.maxRepeat)", at: open)
            }
            return (lo, hi)
        default:
            return (1, 1)
        }
    }
}
