/// X-Ray's filter-expression language (https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html),
/// parsed into a tree and evaluated over ``TraceFacts``. Keywords and `AND`/`OR`/`NOT` are case-insensitive;
/// annotation keys are not. Anything outside the language is an error, never a match-all.
package indirect enum FilterExpression: Sendable, Equatable {
    case and(FilterExpression, FilterExpression)
    case or(FilterExpression, FilterExpression)
    case not(FilterExpression)
    /// A keyword alone (a boolean, or "is set") or compared with a literal.
    case test(Subject, Comparison?)
    /// `service(selector) { inner }`: some service of the trace matches the selector and the inner expression.
    case service(ServiceSelector, FilterExpression?)
    /// `edge(source, destination) { inner }`.
    case edge(ServiceSelector, ServiceSelector, FilterExpression?)
    /// `rootcause.<fault|error|throttle|responsetime>.<service|entity|exception> { inner }`.
    case rootCause(RootCauseKind, RootCauseScope, FilterExpression)
    /// `group.name` / `group.arn` compared with a string: needs a group.
    case group(String, Comparison)

    package enum Subject: Sendable, Equatable {
        case responseTime, duration, httpStatus, httpURL, httpMethod, httpUserAgent, httpClientIP, user
        case error, fault, throttle, ok, partial, inferred, root, async
        case annotation(String)
        /// Inside service, edge and root-cause braces.
        case name, type, last, remote, message, coverage
    }

    package enum Operator: String, Sendable, Equatable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case contains = "CONTAINS", beginsWith = "BEGINSWITH", endsWith = "ENDSWITH"
    }

    package enum Literal: Sendable, Equatable {
        case string(String), number(Double), bool(Bool)
    }

    package struct Comparison: Sendable, Equatable {
        package var op: Operator
        package var literal: Literal
    }

    /// Which services `service()` / `edge()` name: any, by name, or `id(name: …, type: …)`.
    package struct ServiceSelector: Sendable, Equatable {
        package var name: String?
        package var type: String?
        package static let any = ServiceSelector(name: nil, type: nil)

        package func matches(_ id: ServiceID) -> Bool {
            (name == nil || name == id.name) && (type == nil || type == id.type)
        }
    }

    package enum RootCauseKind: String, Sendable, Equatable { case fault, error, throttle, responsetime }
    package enum RootCauseScope: String, Sendable, Equatable { case service, entity, exception }
}

/// A filter expression that does not parse (X-Ray answers 400 InvalidRequestException).
package struct FilterExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    package var message: String
    package var offset: Int
    package var description: String { "\(message) (at character \(offset + 1))" }
}

// MARK: - Parsing

extension FilterExpression {
    package static func parse(_ text: String) throws(FilterExpressionError) -> FilterExpression {
        var parser = FilterParser(tokens: try FilterLexer.tokens(text), length: text.utf8.count)
        let expression = try parser.expression(context: .trace)
        try parser.expectEnd()
        return expression
    }
}

enum FilterToken: Equatable {
    case word(String)
    case string(String)
    case number(Double)
    case symbol(String)
}

enum FilterLexer {
    static func tokens(_ text: String) throws(FilterExpressionError) -> [(token: FilterToken, offset: Int)] {
        let b = Array(text.utf8)
        var out: [(token: FilterToken, offset: Int)] = []
        var i = 0
        func isWordByte(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c >= 0x80
        }
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            let start = i
            if c == UInt8(ascii: "\"") {
                var value: [UInt8] = []
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < b.count { value.append(b[i + 1]); i += 2; continue }
                    if b[i] == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    value.append(b[i])
                    i += 1
                }
                guard closed else { throw FilterExpressionError(message: "Unterminated string", offset: start) }
                out.append((.string(String(decoding: value, as: UTF8.self)), start))
            } else if (c >= 0x30 && c <= 0x39) || (c == UInt8(ascii: "-") && i + 1 < b.count && b[i + 1] >= 0x30 && b[i + 1] <= 0x39) {
                i += 1
                while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e")
                    || b[i] == UInt8(ascii: "E") || ((b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) && (b[i - 1] | 0x20) == UInt8(ascii: "e")) {
                    i += 1
                }
                guard let n = Double(String(decoding: b[start..<i], as: UTF8.self)) else {
                    throw FilterExpressionError(message: "Invalid number", offset: start)
                }
                out.append((.number(n), start))
            } else if isWordByte(c) {
                while i < b.count, isWordByte(b[i]) { i += 1 }
                out.append((.word(String(decoding: b[start..<i], as: UTF8.self)), start))
            } else {
                let two = i + 1 < b.count ? String(decoding: b[i...(i + 1)], as: UTF8.self) : ""
                if ["!=", "<=", ">=", "&&", "||"].contains(two) {
                    out.append((.symbol(two), start))
                    i += 2
                } else if "=<>!(){},:".utf8.contains(c) {
                    out.append((.symbol(String(UnicodeScalar(c))), start))
                    i += 1
                } else {
                    throw FilterExpressionError(message: "Unexpected character '\(UnicodeScalar(c))'", offset: start)
                }
            }
        }
        return out
    }
}

struct FilterParser {
    enum Context: Equatable {
        case trace, service, edge
        case rootCause(FilterExpression.RootCauseScope)
    }

    let tokens: [(token: FilterToken, offset: Int)]
    let length: Int
    var position = 0

    init(tokens: [(token: FilterToken, offset: Int)], length: Int) {
        self.tokens = tokens
        self.length = length
    }

    private var offset: Int { position < tokens.count ? tokens[position].offset : length }
    private var peek: FilterToken? { position < tokens.count ? tokens[position].token : nil }

    private func fail(_ message: String) -> FilterExpressionError { FilterExpressionError(message: message, offset: offset) }

    private func isWord(_ token: FilterToken?, _ words: String...) -> Bool {
        guard case .word(let w)? = token else { return false }
        return words.contains(w.uppercased())
    }

    private mutating func expect(_ symbol: String) throws(FilterExpressionError) {
        guard peek == .symbol(symbol) else { throw fail("Expected '\(symbol)'") }
        position += 1
    }

    mutating func expectEnd() throws(FilterExpressionError) {
        guard position == tokens.count else { throw fail("Unexpected input") }
    }

    mutating func expression(context: Context) throws(FilterExpressionError) -> FilterExpression {
        guard position < tokens.count else { throw fail("Expected an expression") }
        var left = try conjunction(context: context)
        while isWord(peek, "OR") || peek == .symbol("||") {
            position += 1
            left = .or(left, try conjunction(context: context))
        }
        return left
    }

    private mutating func conjunction(context: Context) throws(FilterExpressionError) -> FilterExpression {
        var left = try negation(context: context)
        while isWord(peek, "AND") || peek == .symbol("&&") {
            position += 1
            left = .and(left, try negation(context: context))
        }
        return left
    }

    private mutating func negation(context: Context) throws(FilterExpressionError) -> FilterExpression {
        if isWord(peek, "NOT") || peek == .symbol("!") {
            position += 1
            return .not(try negation(context: context))
        }
        return try primary(context: context)
    }

    private mutating func primary(context: Context) throws(FilterExpressionError) -> FilterExpression {
        guard let token = peek else { throw fail("Expected an expression") }
        if token == .symbol("(") {
            position += 1
            let inner = try expression(context: context)
            try expect(")")
            return inner
        }
        guard case .word(let word) = token else { throw fail("Expected a keyword") }
        let lower = word.lowercased()
        position += 1
        if context == .trace {
            switch lower {
            case "service":
                let selector = try selectorArguments(count: 1)[0]
                return .service(selector, try braces(context: .service))
            case "edge":
                let selectors = try selectorArguments(count: 2)
                return .edge(selectors[0], selectors[1], try braces(context: .edge))
            case "group.name", "group.arn":
                guard let comparison = try comparison(for: .name), comparison.op == .equal, case .string = comparison.literal else {
                    throw fail("\(word) is compared with = and a string")
                }
                return .group(lower, comparison)
            default:
                break
            }
            if lower.hasPrefix("rootcause.") {
                let parts = lower.split(separator: ".").map(String.init)
                guard parts.count == 3, let kind = FilterExpression.RootCauseKind(rawValue: parts[1]),
                      let scope = FilterExpression.RootCauseScope(rawValue: parts[2]) else {
                    throw fail("Unknown root cause \(word): use rootcause.<fault|error|throttle|responsetime>.<service|entity|exception>")
                }
                guard kind != .responsetime || scope != .exception else { throw fail("Response-time root causes have no exceptions") }
                guard let inner = try braces(context: .rootCause(scope)) else { throw fail("Expected '{' after \(word)") }
                return .rootCause(kind, scope, inner)
            }
        }
        let subject = try subject(word, context: context)
        return .test(subject, try comparison(for: subject))
    }

    private mutating func braces(context: Context) throws(FilterExpressionError) -> FilterExpression? {
        guard peek == .symbol("{") else { return nil }
        position += 1
        let inner = try expression(context: context)
        try expect("}")
        return inner
    }

    /// `()`, `("name")`, `(id(name: "n", type: "t"))`, and for edges two of them separated by a comma.
    private mutating func selectorArguments(count: Int) throws(FilterExpressionError) -> [FilterExpression.ServiceSelector] {
        try expect("(")
        var out: [FilterExpression.ServiceSelector] = []
        if peek == .symbol(")"), count == 1 {
            position += 1
            return [.any]
        }
        for i in 0..<count {
            if i > 0 { try expect(",") }
            switch peek {
            case .string(let name)?:
                position += 1
                out.append(.init(name: name, type: nil))
            case .word(let w)? where w.lowercased() == "id":
                position += 1
                try expect("(")
                var selector = FilterExpression.ServiceSelector.any
                repeat {
                    if peek == .symbol(",") { position += 1 }
                    guard case .word(let key)? = peek, ["name", "type"].contains(key.lowercased()) else {
                        throw fail("id() takes name: and type:")
                    }
                    position += 1
                    try expect(":")
                    guard case .string(let value)? = peek else { throw fail("id(\(key): …) takes a quoted string") }
                    position += 1
                    if key.lowercased() == "name" { selector.name = value } else { selector.type = value }
                } while peek == .symbol(",")
                try expect(")")
                out.append(selector)
            default:
                throw fail("Expected a service name in quotes or id(...)")
            }
        }
        try expect(")")
        return out
    }

    private func subject(_ word: String, context: Context) throws(FilterExpressionError) -> FilterExpression.Subject {
        let lower = word.lowercased()
        if lower.hasPrefix("annotation.") && context == .trace {
            let key = String(word.dropFirst("annotation.".count))
            guard TraceIdentifiers.isValidAnnotationKey(key) else {
                throw FilterExpressionError(message: "Annotation keys are letters, digits and underscores", offset: offsetBefore)
            }
            return .annotation(key)
        }
        let subject: FilterExpression.Subject? = switch lower {
        case "responsetime": .responseTime
        case "duration": .duration
        case "http.status": .httpStatus
        case "http.url": .httpURL
        case "http.method": .httpMethod
        case "http.useragent": .httpUserAgent
        case "http.clientip": .httpClientIP
        case "user": .user
        case "error": .error
        case "fault": .fault
        case "throttle": .throttle
        case "ok": .ok
        case "partial": .partial
        case "inferred": .inferred
        case "root": .root
        case "async": .async
        case "name": .name
        case "type": .type
        case "last": .last
        case "remote": .remote
        case "message": .message
        case "coverage": .coverage
        default: nil
        }
        guard let subject, Self.allowed(subject, in: context) else {
            let place = switch context {
            case .trace: "a filter expression"
            case .service: "service() { … }"
            case .edge: "edge() { … }"
            case .rootCause(let scope): "rootcause.*.\(scope.rawValue) { … }"
            }
            throw FilterExpressionError(message: "Unknown keyword \(word) in \(place)", offset: offsetBefore)
        }
        return subject
    }

    private var offsetBefore: Int { tokens[position - 1].offset }

    static func allowed(_ s: FilterExpression.Subject, in context: Context) -> Bool {
        switch context {
        case .trace:
            switch s {
            case .responseTime, .duration, .httpStatus, .httpURL, .httpMethod, .httpUserAgent, .httpClientIP, .user, .error, .fault,
                 .throttle, .ok, .partial, .annotation: true
            default: false
            }
        case .service:
            [.name, .type, .error, .fault, .throttle, .ok, .responseTime, .inferred, .root].contains(s)
        case .edge:
            [.error, .fault, .throttle, .ok, .responseTime, .async].contains(s)
        case .rootCause(.service):
            [.name, .type, .last, .inferred].contains(s)
        case .rootCause(.entity):
            [.name, .last, .remote, .coverage].contains(s)
        case .rootCause(.exception):
            [.name, .message].contains(s)
        }
    }

    enum ValueKind { case number, string, boolean, any }

    static func kind(_ s: FilterExpression.Subject) -> ValueKind {
        switch s {
        case .responseTime, .duration, .httpStatus, .coverage: .number
        case .httpURL, .httpMethod, .httpUserAgent, .httpClientIP, .user, .name, .type, .message: .string
        case .error, .fault, .throttle, .ok, .partial, .inferred, .root, .async, .last, .remote: .boolean
        case .annotation: .any
        }
    }

    private mutating func comparison(for subject: FilterExpression.Subject) throws(FilterExpressionError) -> FilterExpression.Comparison? {
        let op: FilterExpression.Operator
        switch peek {
        case .symbol(let s)?:
            guard let o = FilterExpression.Operator(rawValue: s) else { return nil }
            op = o
        case .word(let w)?:
            guard let o = FilterExpression.Operator(rawValue: w.uppercased()), [.contains, .beginsWith, .endsWith].contains(o) else {
                return nil
            }
            op = o
        default:
            return nil
        }
        position += 1
        let literal: FilterExpression.Literal
        switch peek {
        case .string(let s)?: literal = .string(s)
        case .number(let n)?: literal = .number(n)
        case .word(let w)? where ["true", "false"].contains(w.lowercased()): literal = .bool(w.lowercased() == "true")
        default: throw fail("Expected a value (a number, a quoted string, true or false) after \(op.rawValue)")
        }
        let kind = Self.kind(subject)
        let fits: Bool = switch (kind, literal, op) {
        case (.number, .number, .equal), (.number, .number, .notEqual), (.number, .number, .less), (.number, .number, .lessOrEqual),
             (.number, .number, .greater), (.number, .number, .greaterOrEqual): true
        case (.string, .string, _): true
        case (.boolean, .bool, .equal), (.boolean, .bool, .notEqual): true
        case (.any, .string, _), (.any, .bool, .equal), (.any, .bool, .notEqual): true
        case (.any, .number, let o): ![.contains, .beginsWith, .endsWith].contains(o)
        default: false
        }
        guard fits else { throw fail("\(op.rawValue) does not compare this keyword with that value") }
        position += 1
        return .init(op: op, literal: literal)
    }
}

// MARK: - Evaluation

extension FilterExpression {
    /// Whether a trace matches.
    package func matches(_ facts: TraceFacts) -> Bool {
        evaluate(TraceScope(facts: facts))
    }

    /// The `group.name` / `group.arn` names this expression uses.
    package var groupReferences: [String] {
        switch self {
        case .and(let a, let b), .or(let a, let b): a.groupReferences + b.groupReferences
        case .not(let a): a.groupReferences
        case .group(_, let c): if case .string(let s) = c.literal { [s] } else { [] }
        default: []
        }
    }

    fileprivate func evaluate(_ scope: some FilterScope) -> Bool {
        switch self {
        case .and(let a, let b): return a.evaluate(scope) && b.evaluate(scope)
        case .or(let a, let b): return a.evaluate(scope) || b.evaluate(scope)
        case .not(let a): return !a.evaluate(scope)
        case .test(let subject, let comparison):
            let values = scope.values(subject)
            guard let comparison else {
                return values.contains { if case .bool(let b) = $0 { b } else { true } }
            }
            return values.contains { comparison.holds(for: $0) }
        case .service(let selector, let inner):
            guard let trace = scope as? TraceScope else { return false }
            return trace.facts.services.contains { selector.matches($0.id) && (inner?.evaluate(ServiceScope(service: $0, facts: trace.facts)) ?? true) }
        case .edge(let source, let destination, let inner):
            guard let trace = scope as? TraceScope else { return false }
            return trace.facts.edges.contains {
                source.matches($0.source) && destination.matches($0.destination) && (inner?.evaluate(EdgeScope(edge: $0)) ?? true)
            }
        case .rootCause(let kind, let scopeKind, let inner):
            guard let trace = scope as? TraceScope else { return false }
            let causes = switch kind {
            case .fault: trace.facts.faultRootCauses
            case .error: trace.facts.errorRootCauses
            case .throttle: trace.facts.throttleRootCauses
            case .responsetime: trace.facts.responseTimeRootCauses
            }
            return causes.contains { cause in
                cause.services.enumerated().contains { i, service in
                    let last = i == cause.services.count - 1
                    switch scopeKind {
                    case .service:
                        return inner.evaluate(RootCauseServiceScope(service: service, last: last))
                    case .entity:
                        return service.entityPath.enumerated().contains { j, entity in
                            inner.evaluate(RootCauseEntityScope(entity: entity, last: last && j == service.entityPath.count - 1))
                        }
                    case .exception:
                        return service.entityPath.contains { $0.exceptions.contains { inner.evaluate(ExceptionScope(exception: $0)) } }
                    }
                }
            }
        case .group:
            // No groups exist: the API refuses expressions naming one (see `groupReferences`), so none matches here.
            return false
        }
    }
}

extension FilterExpression.Comparison {
    fileprivate func holds(for value: FilterExpression.Literal) -> Bool {
        switch (value, literal) {
        case let (.number(a), .number(b)):
            switch op {
            case .equal: return a == b
            case .notEqual: return a != b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            default: return false
            }
        case let (.string(a), .string(b)):
            switch op {
            case .equal: return a == b
            case .notEqual: return a != b
            case .contains: return b.isEmpty || a.contains(b)
            case .beginsWith: return a.hasPrefix(b)
            case .endsWith: return a.hasSuffix(b)
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            }
        case let (.bool(a), .bool(b)):
            return op == .equal ? a == b : op == .notEqual ? a != b : false
        default:
            return false
        }
    }
}

private protocol FilterScope {
    /// The values a keyword has here (none when it is not set; several for users and repeated annotations).
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal]
}

private struct TraceScope: FilterScope {
    let facts: TraceFacts
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal] {
        switch subject {
        case .responseTime: facts.responseTime.map { [.number($0)] } ?? []
        case .duration: [.number(facts.duration)]
        case .httpStatus: facts.http?.status.map { [.number(Double($0))] } ?? []
        case .httpURL: facts.http?.url.map { [.string($0)] } ?? []
        case .httpMethod: facts.http?.method.map { [.string($0)] } ?? []
        case .httpUserAgent: facts.http?.userAgent.map { [.string($0)] } ?? []
        case .httpClientIP: facts.http?.clientIP.map { [.string($0)] } ?? []
        case .user: facts.users.map { .string($0) }
        case .error: [.bool(facts.hasError)]
        case .fault: [.bool(facts.hasFault)]
        case .throttle: [.bool(facts.hasThrottle)]
        case .ok: [.bool(facts.ok)]
        case .partial: [.bool(facts.isPartial)]
        case .annotation(let key):
            facts.annotations.filter { $0.key == key }.map {
                switch $0.value {
                case .string(let s): .string(s)
                case .number(let n): .number(n)
                case .bool(let b): .bool(b)
                }
            }
        default: []
        }
    }
}

private struct ServiceScope: FilterScope {
    let service: ServiceFacts
    let facts: TraceFacts
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal] {
        switch subject {
        case .name: [.string(service.id.name)]
        case .type: [.string(service.id.type)]
        case .error: [.bool(service.error)]
        case .fault: [.bool(service.fault)]
        case .throttle: [.bool(service.throttle)]
        case .ok: [.bool(!service.error && !service.fault && !service.throttle)]
        case .responseTime: [.number(service.responseTime)]
        case .inferred: [.bool(service.inferred)]
        case .root: [.bool(service.root)]
        default: []
        }
    }
}

private struct EdgeScope: FilterScope {
    let edge: EdgeFacts
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal] {
        switch subject {
        case .error: [.bool(edge.error)]
        case .fault: [.bool(edge.fault)]
        case .throttle: [.bool(edge.throttle)]
        case .ok: [.bool(!edge.error && !edge.fault && !edge.throttle)]
        case .responseTime: [.number(edge.responseTime)]
        case .async: [.bool(edge.async)]
        default: []
        }
    }
}

private struct RootCauseServiceScope: FilterScope {
    let service: RootCause.Service
    let last: Bool
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal] {
        switch subject {
        case .name: [.string(service.id.name)]
        case .type: [.string(service.id.type)]
        case .last: [.bool(last)]
        case .inferred: [.bool(service.inferred)]
        default: []
        }
    }
}

private struct RootCauseEntityScope: FilterScope {
    let entity: RootCause.Entity
    let last: Bool
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal] {
        switch subject {
        case .name: [.string(entity.name)]
        case .last: [.bool(last)]
        case .remote: [.bool(entity.remote)]
        case .coverage: entity.coverage.map { [.number($0)] } ?? []
        default: []
        }
    }
}

private struct ExceptionScope: FilterScope {
    let exception: SegmentException
    func values(_ subject: FilterExpression.Subject) -> [FilterExpression.Literal] {
        switch subject {
        case .name: exception.type.map { [.string($0)] } ?? []
        case .message: exception.message.map { [.string($0)] } ?? []
        default: []
        }
    }
}

// MARK: - Index terms

/// A condition every matching trace must meet that the store's index can answer, taken from the expression's
/// top-level `AND`s: the store narrows the candidates with these, then evaluates the whole expression on each.
package enum TraceIndexTerm: Sendable, Equatable {
    case annotation(key: String, value: AnnotationValue)
    case service(name: String)
}

extension FilterExpression {
    package var indexTerms: [TraceIndexTerm] {
        switch self {
        case .and(let a, let b):
            return a.indexTerms + b.indexTerms
        case .test(.annotation(let key), let c?) where c.op == .equal:
            switch c.literal {
            case .string(let s): return [.annotation(key: key, value: .string(s))]
            case .number(let n): return [.annotation(key: key, value: .number(n))]
            case .bool(let b): return [.annotation(key: key, value: .bool(b))]
            }
        case .service(let selector, _), .edge(let selector, _, _):
            return selector.name.map { [.service(name: $0)] } ?? []
        default:
            return []
        }
    }
}
