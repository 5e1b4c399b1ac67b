/// The AST of JSON filter patterns: `{ $.a.b = "v" && ($.n > 1 || $.x NOT EXISTS) }`.
package indirect enum JSONCondition: Sendable, Equatable {
    case and(JSONCondition, JSONCondition)
    case or(JSONCondition, JSONCondition)
    case test(JSONTest)
}

/// One comparison of a selector against a value.
package struct JSONTest: Sendable, Equatable {
    package enum Operation: Sendable, Equatable {
        case equal(JSONValueMatcher)
        case notEqual(JSONValueMatcher)
        case less(Double), lessOrEqual(Double), greater(Double), greaterOrEqual(Double)
        case isNull, isTrue, isFalse, notExists
    }

    package var selector: JSONSelector
    package var operation: Operation
    /// Where the test starts in the pattern text, for explanations.
    package var position: Int
    /// The test as written, for explanations.
    package var text: String
}

/// The right-hand side of `=` and `!=`.
package enum JSONValueMatcher: Sendable, Equatable {
    /// A quoted string or a bare word, with `*` wildcards; compared with string values (and numbers' text).
    case text(String)
    /// A number literal: equal to numbers with the same value, and to strings whose text is the literal's text.
    case number(Double, text: String)
    /// `%regex%`, searched in string values.
    case regex(PatternRegex)
    /// `*`: any string or number.
    case anyScalar
}

/// A path into a JSON document: `$.a.b`, `$.arr[0]`, `$.arr[*]`, `$.*`, `$['key with.dots']`.
package struct JSONSelector: Sendable, Equatable, CustomStringConvertible {
    package enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
        /// Every element of an array, or every member value of an object.
        case wildcard
    }

    package var steps: [Step]
    package var text: String
    package var description: String { text }
}
