import CByteSearch

/// A filter pattern ready to run over raw UTF-8 message bytes.
///
/// ``matches(_:)`` is the fast path (FilterLogEvents, live tail); ``evaluate(_:)`` also returns the values the
/// pattern extracted (TestMetricFilter, metric filters) and, for a non-match, which part of the pattern failed.
package struct CompiledFilterPattern: Sendable {
    package let pattern: FilterPattern

    /// Unstructured terms, split by kind, with their bytes.
    struct CompiledTerm: Sendable {
        var term: FilterPattern.Term
        var bytes: [UInt8]

        /// Byte strings of which a message holding this term contains one.
        var needles: [[UInt8]]? {
            switch term.match {
            case .text: bytes.isEmpty ? nil : [bytes]
            case .regex(let r): r.requiredLiterals
            }
        }

        func found(in message: UnsafeRawBufferPointer) -> Bool {
            switch term.match {
            case .text: ByteSearch.contains(message, bytes)
            case .regex(let r): r.matches(message)
            }
        }
    }

    let required: [CompiledTerm]
    let optional: [CompiledTerm]
    let excluded: [CompiledTerm]
    /// The needle when the whole pattern is one plain term: the hot path skips everything else.
    private let fastTerm: [UInt8]?
    /// For JSON patterns: a quoted key every matching document contains (see ``requiredKey(_:)``).
    private let jsonRequiredKey: [UInt8]?
    /// For space-delimited patterns ending in their only ellipsis: the fields to split and the conditions on them.
    private let spacePrefix: SpaceMatcher.Prefix?
    /// Byte strings of which every matching message contains at least one; nil when there is no such guarantee.
    /// A batch of messages can be searched for them at once and the pattern run only where one occurs.
    package let prefilter: [[UInt8]]?
    /// Whether containing one of ``prefilter`` is the same as matching (a term, or `?` alternatives of terms).
    package let prefilterIsExact: Bool

    package init(_ pattern: FilterPattern) {
        self.pattern = pattern
        if case .unstructured(let terms) = pattern.body {
            func compiled(_ kind: FilterPattern.Term.Kind) -> [CompiledTerm] {
                terms.filter { $0.kind == kind }.map { CompiledTerm(term: $0, bytes: Array($0.text.utf8)) }
            }
            required = compiled(.required)
            excluded = compiled(.excluded)
            // `?` terms are alternatives only when the pattern has nothing else; next to others they are ignored.
            optional = required.isEmpty && excluded.isEmpty ? compiled(.optional) : []
        } else {
            required = []
            optional = []
            excluded = []
        }
        if case .json(let condition) = pattern.body { jsonRequiredKey = Self.requiredKey(condition).map { Array($0.utf8) } } else {
            jsonRequiredKey = nil
        }
        if required.count == 1, optional.isEmpty, excluded.isEmpty, case .text = required[0].term.match {
            fastTerm = required[0].bytes
        } else {
            fastTerm = nil
        }
        if case .spaceDelimited(let space) = pattern.body, !space.items.isEmpty { spacePrefix = SpaceMatcher.Prefix(space) } else {
            spacePrefix = nil
        }
        switch pattern.body {
        case .unstructured:
            if !required.isEmpty {
                // Each required term must occur: the one with the longest shortest needle is the most selective.
                prefilter = required.compactMap(\.needles).max { Self.shortest($0) < Self.shortest($1) }
                prefilterIsExact = fastTerm != nil
            } else if !optional.isEmpty {
                let alternatives = optional.map(\.needles)
                prefilter = alternatives.contains { $0 == nil } ? nil : alternatives.flatMap { $0! }
                prefilterIsExact = optional.allSatisfy { if case .text = $0.term.match { true } else { false } }
            } else {
                prefilter = nil
                prefilterIsExact = false
            }
        case .json(let condition):
            // Verbatim unless the message escapes something in the string that holds the needle. Characters other than
            // `"`, `\`, `/` and control characters can only be escaped as `\uXXXX`: when no needle has one of those,
            // a message holding `\u` is a candidate too (most escapes in logs are `\n` and `\"`); otherwise any
            // backslash.
            prefilter = Self.jsonNeedles(condition).map { needles in
                let shortEscapable = needles.contains { $0.contains { $0 == 0x22 || $0 == 0x5C || $0 == 0x2F || $0 < 0x20 } }
                return needles + [shortEscapable ? Self.backslash : Self.unicodeEscape]
            }
            prefilterIsExact = false
        case .spaceDelimited:
            prefilter = nil
            prefilterIsExact = false
        }
    }

    private static func shortest(_ needles: [[UInt8]]) -> Int { needles.map(\.count).min() ?? 0 }

    /// True when the pattern matches every event.
    package var matchesAll: Bool {
        switch pattern.body {
        case .unstructured: required.isEmpty && optional.isEmpty && excluded.isEmpty
        case .spaceDelimited(let s): s.items.isEmpty
        case .json: false
        }
    }

    /// The single plain term, when that is the whole pattern: callers may search a whole buffer for it at once.
    package var singleRequiredTerm: [UInt8]? { fastTerm }

    /// Whether the message `bytes` matches.
    package func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let fastTerm { return ByteSearch.contains(bytes, fastTerm) }
        switch pattern.body {
        case .unstructured:
            for term in required where !term.found(in: bytes) { return false }
            for term in excluded where term.found(in: bytes) { return false }
            if optional.isEmpty { return true }
            for term in optional where term.found(in: bytes) { return true }
            return false
        case .json(let condition):
            // A key the condition needs must appear verbatim unless the message escapes something.
            if let jsonRequiredKey, !ByteSearch.contains(bytes, jsonRequiredKey),
               !ByteSearch.contains(bytes, Self.backslash) { return false }
            let document = JSONDocument(bytes: bytes)
            guard document.isObject else { return false }
            if case .test(let t) = condition { return JSONEvaluation.test(t, in: document) }
            var cache = JSONEvaluation(document: document)
            return cache.evaluate(condition)
        case .spaceDelimited(let space):
            if let spacePrefix { return spacePrefix.matches(bytes) }
            return SpaceMatcher(pattern: space).matches(bytes)
        }
    }

    private static let backslash: [UInt8] = [UInt8(ascii: "\\")]
    private static let unicodeEscape: [UInt8] = Array(#"\u"#.utf8)

    /// A member key (quoted, as it appears in the document) that every document matching `condition` contains,
    /// the longest available; nil when none is certain (`NOT EXISTS`, `||`, wildcard-only selectors).
    static func requiredKey(_ condition: JSONCondition) -> String? {
        switch condition {
        case .and(let a, let b):
            return [requiredKey(a), requiredKey(b)].compactMap { $0 }.max { $0.utf8.count < $1.utf8.count }
        case .or:
            return nil
        case .test(let t):
            if case .notExists = t.operation { return nil }
            let keys = t.selector.steps.compactMap { step -> String? in
                if case .key(let k) = step, !k.isEmpty, !k.utf8.contains(UInt8(ascii: "\"")) { return k } else { return nil }
            }
            return keys.max { $0.utf8.count < $1.utf8.count }.map { "\"\($0)\"" }
        }
    }

    /// Byte strings of which every document matching `condition` contains one when it escapes nothing: for a test,
    /// the text its value must contain (`= "ERROR"`, the longest run between `*`s; `IS TRUE`), else its key.
    static func jsonNeedles(_ condition: JSONCondition) -> [[UInt8]]? {
        switch condition {
        case .and(let a, let b):
            return [jsonNeedles(a), jsonNeedles(b)].compactMap { $0 }.max { shortest($0) < shortest($1) }
        case .or(let a, let b):
            guard let x = jsonNeedles(a), let y = jsonNeedles(b) else { return nil }
            return x + y
        case .test(let t):
            let value: String? = switch t.operation {
            case .equal(.text(let text)): text.split(separator: "*").max { $0.utf8.count < $1.utf8.count }.map(String.init)
            case .isTrue: "true"
            case .isFalse: "false"
            case .isNull: "null"
            default: nil
            }
            if let value, !value.isEmpty { return [Array(value.utf8)] }
            return requiredKey(.test(t)).map { [Array($0.utf8)] }
        }
    }

    /// Whether `message` matches.
    package func matches(_ message: some Collection<UInt8>) -> Bool {
        if let fast = message.withContiguousStorageIfAvailable({ matches(UnsafeRawBufferPointer($0)) }) { return fast }
        return Array(message).withUnsafeBytes { matches($0) }
    }
}

/// Substring search over bytes, backed by the C library's `memmem` (65× faster than `String.contains`).
package enum ByteSearch {
    /// Calls `body` with the index of each message that contains `needle`, in order, once each, where message `i`
    /// is `buffer[offsets[i]..<offsets[i + 1]]`: one search over the whole buffer, never across a message boundary.
    package static func forEachMessage(containing needle: [UInt8], in buffer: UnsafeRawBufferPointer, offsets: [Int],
                                       _ body: (Int) -> Void) {
        guard offsets.count > 1, !needle.isEmpty else { return }
        var from = offsets[0]
        var message = 0
        let end = offsets[offsets.count - 1]
        while from < end, let hit = firstIndex(UnsafeRawBufferPointer(rebasing: buffer[from..<end]), needle) {
            let position = from + hit
            while offsets[message + 1] <= position { message += 1 }
            if position + needle.count <= offsets[message + 1] {
                body(message)
                from = offsets[message + 1]
                message += 1
            } else {
                from = position + 1
            }
        }
    }

    package static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        firstIndex(haystack, needle) != nil
    }

    /// The offset of the first occurrence of `needle` in `haystack`.
    package static func firstIndex(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard let base = haystack.baseAddress, haystack.count >= needle.count else { return nil }
        return needle.withUnsafeBytes { n -> Int? in
            guard let found = skylens_find(base, haystack.count, n.baseAddress, n.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }
}
