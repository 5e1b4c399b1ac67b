/// What one event made of a pattern: matched or not, the values extracted, and why it did not match.
package struct PatternOutcome: Sendable, Equatable {
    package var matched: Bool
    /// TestMetricFilter's `extractedValues`, in pattern order: `$name` and `$1..$n` for space-delimited patterns;
    /// empty for unstructured and JSON patterns (as the service returns them).
    package var extracted: [Extracted]
    /// For a non-match, the part of the pattern that failed and what the event held there.
    package var reason: String?

    package struct Extracted: Sendable, Equatable {
        package var name: String
        package var value: String
    }
}

extension CompiledFilterPattern {
    /// Evaluates the pattern on one message, explaining a non-match.
    package func evaluate(_ bytes: UnsafeRawBufferPointer) -> PatternOutcome {
        switch pattern.body {
        case .unstructured:
            return PatternOutcome(matched: matches(bytes), extracted: [], reason: unstructuredReason(bytes))
        case .json(let condition):
            let document = JSONDocument(bytes: bytes)
            guard document.isObject else {
                return PatternOutcome(matched: false, extracted: [], reason: "the event is not a JSON object, and JSON patterns match JSON objects only")
            }
            var evaluation = JSONEvaluation(document: document)
            if evaluation.evaluate(condition) { return PatternOutcome(matched: true, extracted: []) }
            return PatternOutcome(matched: false, extracted: [], reason: Self.jsonReason(condition, &evaluation))
        case .spaceDelimited(let space):
            let matcher = SpaceMatcher(pattern: space)
            if let values = matcher.match(bytes) {
                return PatternOutcome(matched: true, extracted: values.map { .init(name: $0.0, value: $0.1) })
            }
            return PatternOutcome(matched: false, extracted: [], reason: Self.spaceReason(space, bytes))
        }
    }

    package func evaluate(_ message: String) -> PatternOutcome {
        var copy = message
        return copy.withUTF8 { evaluate(UnsafeRawBufferPointer($0)) }
    }

    private func unstructuredReason(_ bytes: UnsafeRawBufferPointer) -> String? {
        if let absent = required.first(where: { !$0.found(in: bytes) }) {
            return "the term \(Self.quote(absent.term)) (at \(absent.term.position + 1)) is absent"
        }
        if let present = excluded.first(where: { $0.found(in: bytes) }) {
            return "the excluded term \(Self.quote(present.term)) (at \(present.term.position + 1)) is present"
        }
        if !optional.isEmpty, !optional.contains(where: { $0.found(in: bytes) }) {
            return "none of the alternatives \(optional.map { "?" + Self.quote($0.term) }.joined(separator: " ")) is present"
        }
        return nil
    }

    private static func quote(_ term: FilterPattern.Term) -> String {
        switch term.match {
        case .text(let t): "\"\(t)\""
        case .regex(let r): "%\(r.source)%"
        }
    }

    private static func jsonReason(_ condition: JSONCondition, _ evaluation: inout JSONEvaluation) -> String {
        switch condition {
        case .and(let a, let b):
            return evaluation.evaluate(a) ? jsonReason(b, &evaluation) : jsonReason(a, &evaluation)
        case .or(let a, let b):
            return "neither side of || holds: \(jsonReason(a, &evaluation)); and \(jsonReason(b, &evaluation))"
        case .test(let t):
            guard let leaves = evaluation.leaves(t.selector) else { return "the event is not valid JSON" }
            let seen: String
            switch leaves.count {
            case 0: seen = "\(t.selector.text) is missing"
            case 1: seen = "\(t.selector.text) is \(leaves[0].summary)"
            default: seen = "\(t.selector.text) selects \(leaves.map(\.summary).joined(separator: ", "))"
            }
            return "`\(t.text)` (at \(t.position + 1)) is false: \(seen)"
        }
    }

    private static func spaceReason(_ space: SpacePattern, _ bytes: UnsafeRawBufferPointer) -> String {
        let fields = SpaceFields(bytes)
        let named = space.items.filter { $0 != .ellipsis }.count
        if fields.values.count < named {
            return "the line has \(fields.values.count) field(s); the pattern needs at least \(named)"
        }
        if !space.hasEllipsis {
            for (k, item) in space.items.enumerated() {
                guard case .field(let name, let condition?) = item else { continue }
                let value = SpaceMatcher.text(bytes, fields.values[k])
                if k < space.items.count - 1, !SpaceMatcher.holds(condition, value) {
                    return "field $\(name) (field \(k + 1)) is \"\(value)\", which fails its condition"
                }
            }
            return "the last field's condition fails on the rest of the line"
        }
        return "no alignment of the line's \(fields.values.count) fields satisfies the pattern's fields and conditions"
    }
}
