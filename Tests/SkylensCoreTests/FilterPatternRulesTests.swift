import Testing
@testable import SkylensCore

/// Our own cases for documented rules the shared corpus does not cover. Each row: pattern, message, expected match.
struct FilterPatternRulesTests {
    static let rows: [(String, String, Bool)] = [
        // JSON: bracketed keys name a key literally, dots and all.
        (#"{ $.['cluster.name'] = "flat" }"#, #"{"cluster.name":"flat"}"#, true),
        (#"{ $.["cluster.name"] = "flat" }"#, #"{"cluster":{"name":"flat"}}"#, false),
        // JSON: $.* iterates the members of an object.
        (#"{ $.* = "x" }"#, #"{"a":"y","b":"x"}"#, true),
        (#"{ $.* = "x" }"#, #"{"a":"y"}"#, false),
        // JSON: * wildcards inside quoted strings.
        (#"{ $.path = "/api/*/items" }"#, #"{"path":"/api/v2/items"}"#, true),
        (#"{ $.path = "/api/*" }"#, #"{"path":"/web/x"}"#, false),
        // JSON: IS NULL matches a null leaf and an array that holds null.
        (#"{ $.v IS NULL }"#, #"{"v":[1,null]}"#, true),
        (#"{ $.v IS NULL }"#, #"{"v":[1,2]}"#, false),
        (#"{ $.v IS NULL }"#, #"{}"#, false),
        // JSON: nested arrays by index.
        (#"{ $.m[1][0] = 2 }"#, #"{"m":[[0,1],[2,3]]}"#, true),
        // JSON: numbers in scientific notation compare numerically.
        (#"{ $.n > 1.5e2 }"#, #"{"n":151}"#, true),
        (#"{ $.n > 1.5e2 }"#, #"{"n":"151"}"#, false),
        // JSON: parentheses override && over ||.
        (#"{ ($.a = 1 || $.b = 2) && $.c = 3 }"#, #"{"a":1,"c":0}"#, false),
        (#"{ $.a = 1 || $.b = 2 && $.c = 3 }"#, #"{"a":1,"c":0}"#, true),
        // JSON: escaped characters in keys and values are compared decoded.
        (#"{ $.msg = "say \"hi\"" }"#, #"{"msg":"say \"hi\""}"#, true),
        (#"{ $.msg = "é" }"#, #"{"msg":"\u00e9"}"#, true),
        // Space-delimited: relational conditions and wildcards.
        ("[ip, user, bytes > 1000]", "1.2.3.4 bob 1500", true),
        ("[ip, user, bytes > 1000]", "1.2.3.4 bob 999", false),
        ("[ip, user, bytes > 1000]", "1.2.3.4 bob many", false),
        ("[ip, status = 4*, rest]", "1.2.3.4 404 x y z", true),
        ("[ip, status != 4*, rest]", "1.2.3.4 404 x", false),
        ("[a, b, c]", "only two", false),
        // Regex: quantifier ranges, negated classes, escapes, anchors per alternative.
        ("%^\\d{3}-\\d{4}$%", "555-1234", true),
        ("%^\\d{3}-\\d{4}$%", "5555-1234", false),
        ("%[^a-z ]{3}%", "abc DEF", true),
        ("%[^a-z ]{3}%", "abc def", false),
        ("%^start|end$%", "the end", true),
        ("%^start|end$%", "end of it", false),
        ("%a\\.b%", "a.b", true),
        ("%a\\.b%", "axb", false),
        // Regex and terms mix as an AND.
        ("ERROR %code=\\d+%", "ERROR code=42", true),
        ("ERROR %code=\\d+%", "ERROR code=x", false),
        // Unstructured: a term may contain non-ASCII characters.
        ("Größe", "Die Größe ist", true),
    ]

    @Test(arguments: 0..<rows.count)
    func rule(_ i: Int) throws {
        let (pattern, message, expected) = Self.rows[i]
        let matcher = try FilterPattern.parse(pattern).compile()
        #expect(matcher.matches(Array(message.utf8)) == expected, "\(pattern) on \(message)")
        #expect(matcher.evaluate(message).matched == expected)
    }

    @Test func moreThanTwoRegexesAreRejected() {
        #expect(throws: FilterPatternError.self) { try FilterPattern.parse("%a% %b% %c%") }
        #expect(throws: FilterPatternError.self) { try FilterPattern.parse(#"{ $.a = %x% || $.b = %y% || $.c = %z% }"#) }
    }

    @Test func spaceDelimitedExtractsLastFieldRestAndEllipsisPositions() throws {
        let m = try FilterPattern.parse("[a, ..., c]").compile()
        let outcome = m.evaluate("one two three four")
        #expect(outcome.extracted.map(\.name) == ["$a", "$2", "$3", "$c"])
        #expect(outcome.extracted.map(\.value) == ["one", "two", "three", "four"])
        let rest = try FilterPattern.parse("[a, b]").compile().evaluate("x  \"y z\" [w]")
        #expect(rest.extracted.map(\.value) == ["x", "\"y z\" [w]"])
    }
}
