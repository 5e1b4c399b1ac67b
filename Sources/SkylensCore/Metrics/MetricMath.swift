/// CloudWatch metric math: expressions over the time series of a GetMetricData request (and, later, of alarms).
///
/// ```
/// expr    := or
/// or      := and ('OR' and)*            and := cmp ('AND' cmp)*
/// cmp     := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?
/// sum     := product (('+'|'-') product)*
/// product := power (('*'|'/') power)*     power := unary ('^' unary)?
/// unary   := '-' unary | primary
/// primary := number | id | "string" | FUNCTION '(' args ')' | '(' expr ')'
/// ```
/// Functions: `SUM`, `AVG`, `MIN`, `MAX` (of an array of series: a series; of one series: a number), `METRICS()`
/// (every metric query's series, or those whose label contains the argument), `FILL(s, v | REPEAT | LINEAR)`,
/// `RATE(s)` (change per second), `IF(cond, a[, b])`, `ABS`. Arithmetic between series keeps the timestamps both have.
package enum MetricMath {
    package struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        package var message: String
        package init(message: String) { self.message = message }
        package var description: String { message }
    }

    /// A time series: timestamps (epoch ms, ascending) and values.
    package struct Series: Sendable, Equatable {
        package var label: String
        package var points: [(Int64, Double)]

        package init(label: String, points: [(Int64, Double)]) {
            self.label = label
            self.points = points
        }

        package static func == (a: Series, b: Series) -> Bool {
            a.label == b.label && a.points.count == b.points.count && zip(a.points, b.points).allSatisfy { $0 == $1 }
        }
    }

    package indirect enum Expression: Sendable, Equatable {
        case number(Double)
        case string(String)
        case keyword(String)
        case reference(String)
        case negate(Expression)
        case binary(String, Expression, Expression)
        case call(String, [Expression])
    }

    package enum Value: Sendable {
        case scalar(Double)
        case series(Series)
        case array([Series])
    }

    /// What an evaluation can see: the series of other queries by id, all metric series, and the period grid.
    package struct Context: Sendable {
        package var resolve: @Sendable (String) throws(Error) -> Value
        package var allMetrics: [Series]
        /// Every period start of the request, for FILL.
        package var grid: [Int64]

        package init(resolve: @escaping @Sendable (String) throws(Error) -> Value, allMetrics: [Series], grid: [Int64]) {
            self.resolve = resolve
            self.allMetrics = allMetrics
            self.grid = grid
        }
    }

    // MARK: parsing

    package static func parse(_ text: String) throws(Error) -> Expression {
        var p = Parser(tokens: try tokenize(text))
        let e = try p.or()
        guard p.i == p.tokens.count else { throw Error(message: "unexpected '\(p.tokens[p.i].text)' in the expression") }
        return e
    }

    struct Token { var text: String; var kind: Kind; enum Kind { case number, word, string, symbol } }

    static func tokenize(_ text: String) throws(Error) -> [Token] {
        let s = Array(text.unicodeScalars)
        var i = 0
        var out: [Token] = []
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\n" { i += 1; continue }
            if ("0"..."9").contains(c) || (c == "." && i + 1 < s.count && ("0"..."9").contains(s[i + 1])) {
                var j = i
                while j < s.count, ("0"..."9").contains(s[j]) || s[j] == "." || s[j] == "e" || s[j] == "E"
                        || ((s[j] == "-" || s[j] == "+") && j > i && (s[j - 1] == "e" || s[j - 1] == "E")) { j += 1 }
                out.append(Token(text: String(String.UnicodeScalarView(s[i..<j])), kind: .number))
                i = j
            } else if c.properties.isAlphabetic || c == "_" {
                var j = i
                while j < s.count, s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) || s[j] == "_" { j += 1 }
                out.append(Token(text: String(String.UnicodeScalarView(s[i..<j])), kind: .word))
                i = j
            } else if c == "\"" || c == "'" {
                var j = i + 1
                while j < s.count, s[j] != c { j += 1 }
                guard j < s.count else { throw Error(message: "unterminated string in the expression") }
                out.append(Token(text: String(String.UnicodeScalarView(s[(i + 1)..<j])), kind: .string))
                i = j + 1
            } else {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if ["<=", ">=", "==", "!="].contains(two) {
                    out.append(Token(text: two, kind: .symbol))
                    i += 2
                } else if "+-*/^(),<>".unicodeScalars.contains(c) {
                    out.append(Token(text: String(c), kind: .symbol))
                    i += 1
                } else {
                    throw Error(message: "unexpected character '\(c)' in the expression")
                }
            }
        }
        return out
    }

    struct Parser {
        let tokens: [Token]
        var i = 0

        func peek(_ text: String) -> Bool { i < tokens.count && tokens[i].kind == .symbol && tokens[i].text == text }
        func peekWord(_ text: String) -> Bool { i < tokens.count && tokens[i].kind == .word && tokens[i].text.uppercased() == text }

        mutating func or() throws(Error) -> Expression {
            var left = try and()
            while peekWord("OR") { i += 1; left = .binary("OR", left, try and()) }
            return left
        }

        mutating func and() throws(Error) -> Expression {
            var left = try comparison()
            while peekWord("AND") { i += 1; left = .binary("AND", left, try comparison()) }
            return left
        }

        mutating func comparison() throws(Error) -> Expression {
            let left = try sum()
            for op in ["<=", ">=", "==", "!=", "<", ">"] where peek(op) {
                i += 1
                return .binary(op, left, try sum())
            }
            return left
        }

        mutating func sum() throws(Error) -> Expression {
            var left = try product()
            while peek("+") || peek("-") {
                let op = tokens[i].text
                i += 1
                left = .binary(op, left, try product())
            }
            return left
        }

        mutating func product() throws(Error) -> Expression {
            var left = try power()
            while peek("*") || peek("/") {
                let op = tokens[i].text
                i += 1
                left = .binary(op, left, try power())
            }
            return left
        }

        mutating func power() throws(Error) -> Expression {
            let base = try unary()
            if peek("^") { i += 1; return .binary("^", base, try unary()) }
            return base
        }

        mutating func unary() throws(Error) -> Expression {
            if peek("-") { i += 1; return .negate(try unary()) }
            return try primary()
        }

        mutating func primary() throws(Error) -> Expression {
            guard i < tokens.count else { throw Error(message: "the expression ends too early") }
            let t = tokens[i]
            i += 1
            switch t.kind {
            case .number:
                guard let v = Double(t.text) else { throw Error(message: "bad number \(t.text)") }
                return .number(v)
            case .string:
                return .string(t.text)
            case .word:
                if peek("(") {
                    i += 1
                    var args: [Expression] = []
                    if !peek(")") {
                        args.append(try or())
                        while peek(",") {
                            i += 1
                            args.append(try or())
                        }
                    }
                    guard peek(")") else { throw Error(message: "expected ) after the arguments of \(t.text)") }
                    i += 1
                    return .call(t.text.uppercased(), args)
                }
                if ["REPEAT", "LINEAR"].contains(t.text.uppercased()) { return .keyword(t.text.uppercased()) }
                return .reference(t.text)
            case .symbol:
                guard t.text == "(" else { throw Error(message: "unexpected '\(t.text)'") }
                let e = try or()
                guard peek(")") else { throw Error(message: "expected )") }
                i += 1
                return e
            }
        }
    }

    // MARK: evaluation

    package static func evaluate(_ e: Expression, _ context: Context) throws(Error) -> Value {
        switch e {
        case .number(let v): return .scalar(v)
        case .string, .keyword: throw Error(message: "a string or keyword is only allowed as a function argument")
        case .reference(let id): return try context.resolve(id)
        case .negate(let inner): return try map(try evaluate(inner, context)) { -$0 }
        case .binary(let op, let l, let r): return try binary(op, try evaluate(l, context), try evaluate(r, context))
        case .call(let name, let args): return try call(name, args, context)
        }
    }

    static func map(_ v: Value, _ f: (Double) -> Double) throws(Error) -> Value {
        switch v {
        case .scalar(let x): return .scalar(f(x))
        case .series(let s): return .series(Series(label: s.label, points: s.points.map { ($0.0, f($0.1)) }))
        case .array(let a): return .array(a.map { Series(label: $0.label, points: $0.points.map { ($0.0, f($0.1)) }) })
        }
    }

    static func apply(_ op: String, _ a: Double, _ b: Double) -> Double? {
        switch op {
        case "+": a + b
        case "-": a - b
        case "*": a * b
        case "/": b == 0 ? nil : a / b
        case "^": pow(a, b)
        case "<": a < b ? 1 : 0
        case "<=": a <= b ? 1 : 0
        case ">": a > b ? 1 : 0
        case ">=": a >= b ? 1 : 0
        case "==": a == b ? 1 : 0
        case "!=": a != b ? 1 : 0
        case "AND": (a != 0 && b != 0) ? 1 : 0
        case "OR": (a != 0 || b != 0) ? 1 : 0
        default: nil
        }
    }

    static func binary(_ op: String, _ l: Value, _ r: Value) throws(Error) -> Value {
        switch (l, r) {
        case let (.scalar(a), .scalar(b)):
            return .scalar(apply(op, a, b) ?? .nan)
        case let (.series(s), .scalar(b)):
            return .series(Series(label: s.label, points: s.points.compactMap { p in apply(op, p.1, b).map { (p.0, $0) } }))
        case let (.scalar(a), .series(s)):
            return .series(Series(label: s.label, points: s.points.compactMap { p in apply(op, a, p.1).map { (p.0, $0) } }))
        case let (.series(x), .series(y)):
            let other = Dictionary(y.points, uniquingKeysWith: { a, _ in a })
            return .series(Series(label: x.label, points: x.points.compactMap { p in
                other[p.0].flatMap { apply(op, p.1, $0) }.map { (p.0, $0) }
            }))
        case let (.array(a), _):
            return .array(try a.map { s throws(Error) in
                guard case .series(let out) = try binary(op, .series(s), r) else { throw Error(message: "array arithmetic failed") }
                return out
            })
        case let (_, .array(b)):
            return .array(try b.map { s throws(Error) in
                guard case .series(let out) = try binary(op, l, .series(s)) else { throw Error(message: "array arithmetic failed") }
                return out
            })
        }
    }

    static func call(_ name: String, _ args: [Expression], _ c: Context) throws(Error) -> Value {
        switch name {
        case "METRICS":
            guard args.count <= 1 else { throw Error(message: "METRICS takes at most one argument") }
            if case .string(let filter)? = args.first {
                return .array(c.allMetrics.filter { $0.label.contains(filter) })
            }
            guard args.isEmpty else { throw Error(message: "METRICS takes a string filter") }
            return .array(c.allMetrics)
        case "SUM", "AVG", "MIN", "MAX":
            guard args.count == 1 else { throw Error(message: "\(name) takes one argument") }
            let reduce: ([Double]) -> Double = switch name {
            case "SUM": { $0.reduce(0, +) }
            case "AVG": { $0.reduce(0, +) / Double($0.count) }
            case "MIN": { $0.min() ?? .nan }
            default: { $0.max() ?? .nan }
            }
            switch try evaluate(args[0], c) {
            case .scalar(let v): return .scalar(v)
            case .series(let s): return s.points.isEmpty ? .scalar(.nan) : .scalar(reduce(s.points.map(\.1)))
            case .array(let a):
                var byTime: [Int64: [Double]] = [:]
                for s in a { for p in s.points { byTime[p.0, default: []].append(p.1) } }
                return .series(Series(label: name, points: byTime.keys.sorted().map { ($0, reduce(byTime[$0]!)) }))
            }
        case "ABS":
            guard args.count == 1 else { throw Error(message: "ABS takes one argument") }
            return try map(try evaluate(args[0], c)) { abs($0) }
        case "RATE":
            guard args.count == 1 else { throw Error(message: "RATE takes one argument") }
            func rate(_ s: Series) -> Series {
                Series(label: s.label, points: zip(s.points, s.points.dropFirst()).map { a, b in
                    (b.0, (b.1 - a.1) / (Double(b.0 - a.0) / 1000))
                })
            }
            switch try evaluate(args[0], c) {
            case .series(let s): return .series(rate(s))
            case .array(let a): return .array(a.map(rate))
            case .scalar: throw Error(message: "RATE needs a time series")
            }
        case "FILL":
            guard args.count == 2 else { throw Error(message: "FILL takes a series and a value, REPEAT or LINEAR") }
            let how = args[1]
            var constant: Double?
            if case .keyword = how {} else {
                guard case .scalar(let v) = try evaluate(how, c) else { throw Error(message: "FILL's value must be a number") }
                constant = v
            }
            func fill(_ s: Series) -> Series {
                let known = Dictionary(s.points, uniquingKeysWith: { a, _ in a })
                var out: [(Int64, Double)] = []
                var last: Double?
                for (k, t) in c.grid.enumerated() {
                    if let v = known[t] {
                        out.append((t, v))
                        last = v
                    } else if let constant {
                        out.append((t, constant))
                    } else if case .keyword("REPEAT") = how, let last {
                        out.append((t, last))
                    } else if case .keyword("LINEAR") = how, let last, let next = c.grid[(k + 1)...].first(where: { known[$0] != nil }),
                              let prev = out.last {
                        let v = last + (known[next]! - last) * Double(t - prev.0) / Double(next - prev.0)
                        out.append((t, v))
                    }
                }
                return Series(label: s.label, points: out)
            }
            switch try evaluate(args[0], c) {
            case .series(let s): return .series(fill(s))
            case .array(let a): return .array(a.map(fill))
            case .scalar: throw Error(message: "FILL needs a time series")
            }
        case "IF":
            guard (2...3).contains(args.count) else { throw Error(message: "IF takes a condition, a value and an optional else value") }
            guard case .series(let cond) = try evaluate(args[0], c) else { throw Error(message: "IF needs a time series condition") }
            let then = try evaluate(args[1], c)
            let otherwise = args.count == 3 ? try evaluate(args[2], c) : nil
            func value(_ v: Value?, at t: Int64) -> Double? {
                switch v {
                case .scalar(let x)?: x
                case .series(let s)?: s.points.first { $0.0 == t }?.1
                default: nil
                }
            }
            return .series(Series(label: cond.label, points: cond.points.compactMap { p in
                (p.1 != 0 ? value(then, at: p.0) : value(otherwise, at: p.0)).map { (p.0, $0) }
            }))
        default:
            throw Error(message: "the function \(name) is not supported")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MetricMath.Expression {
    /// Whether the expression calls `METRICS()`, which reads every metric query of the request.
    package var callsMetrics: Bool {
        switch self {
        case .reference, .number, .string, .keyword: false
        case .negate(let e): e.callsMetrics
        case .binary(_, let l, let r): l.callsMetrics || r.callsMetrics
        case .call(let name, let args): name == "METRICS" || args.contains { $0.callsMetrics }
        }
    }

    /// The query ids the expression refers to.
    package var references: Set<String> {
        switch self {
        case .reference(let id): [id]
        case .number, .string, .keyword: []
        case .negate(let e): e.references
        case .binary(_, let l, let r): l.references.union(r.references)
        case .call(_, let args): args.reduce(into: Set<String>()) { $0.formUnion($1.references) }
        }
    }
}
