/// A readable, indented rendering of a parsed pattern, for `skylens patterns check`.
extension FilterPattern {
    package var prettyDescription: String {
        switch body {
        case .unstructured(let terms):
            if terms.isEmpty { return "unstructured pattern: matches every event" }
            var lines = ["unstructured pattern:"]
            let hasOthers = terms.contains { $0.kind != .optional }
            for t in terms {
                let what: String
                switch t.match {
                case .text(let s): what = "\"\(s)\""
                case .regex(let r): what = "regex %\(r.source)%"
                }
                switch t.kind {
                case .required: lines.append("  must contain \(what)")
                case .excluded: lines.append("  must not contain \(what)")
                case .optional: lines.append(hasOthers ? "  (ignored: ?-terms next to other terms) \(what)" : "  any of: \(what)")
                }
            }
            return lines.joined(separator: "\n")
        case .json(let condition):
            return "JSON pattern (matches JSON objects only):\n" + Self.render(condition, indent: "  ")
        case .spaceDelimited(let space):
            if space.items.isEmpty { return "space-delimited pattern: matches every event; every field is extracted as $1..$n" }
            var lines = ["space-delimited pattern:"]
            for (k, item) in space.items.enumerated() {
                switch item {
                case .ellipsis: lines.append("  \(k + 1). ...  (zero or more fields, extracted as $1..$n)")
                case .field(let name, let condition):
                    lines.append("  \(k + 1). $\(name)" + (condition.map { "  where " + Self.render($0) } ?? ""))
                }
            }
            if !space.hasEllipsis { lines.append("  (the last field takes the rest of the line)") }
            return lines.joined(separator: "\n")
        }
    }

    private static func render(_ c: JSONCondition, indent: String) -> String {
        switch c {
        case .test(let t): return indent + t.text
        case .and(let a, let b): return indent + "ALL OF\n" + render(a, indent: indent + "  ") + "\n" + render(b, indent: indent + "  ")
        case .or(let a, let b): return indent + "ANY OF\n" + render(a, indent: indent + "  ") + "\n" + render(b, indent: indent + "  ")
        }
    }

    private static func render(_ c: SpaceCondition) -> String {
        switch c {
        case .test(let t): t.text
        case .and(let a, let b): "(\(render(a)) && \(render(b)))"
        case .or(let a, let b): "(\(render(a)) || \(render(b)))"
        }
    }
}
