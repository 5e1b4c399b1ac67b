import Foundation
import SkylensCore

/// Loads every `*.yaml` / `*.yml` file of a rules directory, in name order.
package enum RulesLoader {
    /// The rules, or every problem found (all files are read, so one run reports everything).
    package static func load(directory: String, region: String = "us-east-1", account: String = "000000000000") -> Result<RuleSet, RulesError> {
        var rules = RuleSet()
        var diagnostics: [RuleDiagnostic] = []
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .success(rules)
        }
        let files = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted()
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                diagnostics.append(RuleDiagnostic(file: path, line: 1, column: 1, message: "cannot read the file as UTF-8"))
                continue
            }
            diagnostics += RuleFileParser(file: path, text: text, region: region, account: account).parse(into: &rules)
        }
        var seen: [String: Int] = [:]
        for f in rules.metricFilters {
            seen["\(f.group)\u{1}\(f.name)", default: 0] += 1
        }
        for (key, count) in seen where count > 1 {
            let parts = key.split(separator: "\u{1}")
            diagnostics.append(RuleDiagnostic(file: directory, line: 1, column: 1,
                                              message: "metric filter \(parts.last ?? "") is declared \(count) times for \(parts.first ?? "")"))
        }
        for (name, count) in Dictionary(rules.alarms.map { ($0.name, 1) }, uniquingKeysWith: +) where count > 1 {
            diagnostics.append(RuleDiagnostic(file: directory, line: 1, column: 1, message: "alarm \(name) is declared \(count) times"))
        }
        return diagnostics.isEmpty ? .success(rules) : .failure(RulesError(diagnostics: diagnostics))
    }
}

/// Every problem of a rules directory.
package struct RulesError: Error, Sendable, CustomStringConvertible {
    package var diagnostics: [RuleDiagnostic]
    package init(diagnostics: [RuleDiagnostic]) { self.diagnostics = diagnostics }
    package var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
