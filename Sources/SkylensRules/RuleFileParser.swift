import SkylensCore
import Yams

/// Reads one CloudFormation-style YAML rule file.
///
/// ```yaml
/// Resources:
///   OrdersLogs:
///     Type: AWS::Logs::LogGroup
///     Properties: { LogGroupName: /aws/lambda/orders, RetentionInDays: 14 }
///   OrdersErrors:
///     Type: AWS::Logs::MetricFilter
///     Properties:
///       LogGroupName: !Ref OrdersLogs          # or { Ref: OrdersLogs }, or a name
///       FilterPattern: '{ $.level = "ERROR" }'
///       MetricTransformations:
///         - { MetricName: Errors, MetricNamespace: Orders, MetricValue: "1", Unit: Count }
/// ```
/// Supported today: `AWS::Logs::LogGroup` and `AWS::Logs::MetricFilter`; any other type is an error naming it.
package struct RuleFileParser {
    let file: String
    let text: String

    package init(file: String, text: String) {
        self.file = file
        self.text = text
    }

    package func parse(into rules: inout RuleSet) -> [RuleDiagnostic] {
        var diagnostics: [RuleDiagnostic] = []
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return [] }
            root = node
        } catch let error as YamlError {
            return [diagnostic(error)]
        } catch {
            return [RuleDiagnostic(file: file, line: 1, column: 1, message: "\(error)")]
        }
        guard let top = root.mapping else { return [fail(root, "a rule file is a mapping with a Resources section")] }
        let parameters = top["Parameters"]?.mapping
        guard let resources = top["Resources"]?.mapping else {
            return [fail(root, "missing Resources: a rule file declares its rules under Resources")]
        }
        // Log group names by logical id, for Ref.
        var groupNames: [String: String] = [:]
        for (key, value) in resources {
            guard let id = key.string, value.mapping?["Type"]?.string == "AWS::Logs::LogGroup" else { continue }
            groupNames[id] = value.mapping?["Properties"]?.mapping?["LogGroupName"]?.string ?? id
        }
        for (param, value) in parameters ?? [:] {
            if let id = param.string, let d = value.mapping?["Default"]?.string { groupNames[id] = groupNames[id] ?? d }
        }
        for (key, value) in resources {
            guard let id = key.string, let resource = value.mapping else {
                diagnostics.append(fail(value, "each resource is a mapping with Type and Properties"))
                continue
            }
            guard let type = resource["Type"]?.string else {
                diagnostics.append(fail(value, "resource \(id) has no Type"))
                continue
            }
            let properties = resource["Properties"]?.mapping ?? [:]
            do {
                switch type {
                case "AWS::Logs::LogGroup":
                    try logGroup(id, properties, at: value, into: &rules)
                case "AWS::Logs::MetricFilter":
                    try metricFilter(id, properties, at: value, groups: groupNames, into: &rules)
                default:
                    throw fail(resource["Type"] ?? value, "\(type) is not supported by Skylens yet (supported: AWS::Logs::LogGroup, AWS::Logs::MetricFilter)")
                }
            } catch let d as RuleDiagnostic {
                diagnostics.append(d)
            } catch {
                diagnostics.append(fail(value, "\(error)"))
            }
        }
        return diagnostics
    }

    private func logGroup(_ id: String, _ p: Node.Mapping, at node: Node, into rules: inout RuleSet) throws {
        let name = p["LogGroupName"]?.string ?? id
        do { try ResourceNames.validateGroup(name) } catch { throw fail(p["LogGroupName"] ?? node, error.message) }
        var retention: Int?
        if let r = p["RetentionInDays"] {
            guard let days = r.int, ResourceNames.retentionDays.contains(days) else {
                throw fail(r, "RetentionInDays must be one of \(ResourceNames.retentionDays.sorted())")
            }
            retention = days
        }
        rules.logGroups.append(.init(name: name, retentionInDays: retention))
    }

    private func metricFilter(_ id: String, _ p: Node.Mapping, at node: Node, groups: [String: String], into rules: inout RuleSet) throws {
        guard let groupNode = p["LogGroupName"] else { throw fail(node, "\(id): LogGroupName is required") }
        let group = try resolve(groupNode, groups)
        if group.hasSuffix("*") {
            do { try ResourceNames.validateGroup(String(group.dropLast())) } catch { throw fail(groupNode, error.message) }
        } else {
            do { try ResourceNames.validateGroup(group) } catch { throw fail(groupNode, error.message) }
        }
        guard let patternNode = p["FilterPattern"], let pattern = patternNode.string else {
            throw fail(node, "\(id): FilterPattern is required (use \"\" to match every event)")
        }
        guard let list = p["MetricTransformations"]?.sequence, list.count == 1, let t = list.first?.mapping else {
            throw fail(p["MetricTransformations"] ?? node, "\(id): MetricTransformations must hold exactly one transformation")
        }
        func required(_ key: String) throws -> String {
            guard let v = t[key]?.string else { throw fail(list.first ?? node, "\(id): \(key) is required") }
            return v
        }
        var unit = MetricUnit.none
        if let u = t["Unit"] {
            guard let text = u.string, let parsed = MetricUnit(rawValue: text) else { throw fail(u, "unknown Unit '\(u.string ?? "")'") }
            unit = parsed
        }
        var dimensions: [String: String] = [:]
        for d in t["Dimensions"]?.sequence ?? [] {
            guard let k = d.mapping?["Key"]?.string, let v = d.mapping?["Value"]?.string else {
                throw fail(d, "each dimension is { Key: name, Value: $.field or $field }")
            }
            dimensions[k] = v
        }
        let transformation = MetricFilter.Transformation(
            metricName: try required("MetricName"), metricNamespace: try required("MetricNamespace"),
            metricValue: try required("MetricValue"), defaultValue: t["DefaultValue"]?.float, dimensions: dimensions, unit: unit)
        let name = p["FilterName"]?.string ?? id
        do {
            _ = try MetricFilter(name: name, pattern: pattern, transformation: transformation)
        } catch {
            // Point at the pattern when the pattern is the problem.
            let at = error.message.hasPrefix("Invalid metric filter pattern") ? patternNode : (list.first ?? node)
            throw fail(at, "\(id): \(error.message)")
        }
        rules.metricFilters.append(StoredMetricFilter(group: group, name: name, pattern: pattern, transformation: transformation,
                                                      creationTime: 0))
    }

    /// A string, `!Ref X` or `{ Ref: X }` (X a LogGroup resource or a parameter with a Default).
    private func resolve(_ node: Node, _ groups: [String: String]) throws -> String {
        if node.tag.description == "!Ref" || node.tag.description.hasSuffix(":Ref") {
            guard let id = node.string, let name = groups[id] else { throw fail(node, "!Ref \(node.string ?? "") names no LogGroup resource or parameter") }
            return name
        }
        if let m = node.mapping {
            guard m.count == 1, let id = m["Ref"]?.string else { throw fail(node, "only Ref is supported among intrinsic functions here") }
            guard let name = groups[id] else { throw fail(node, "Ref \(id) names no LogGroup resource or parameter") }
            return name
        }
        guard let s = node.string else { throw fail(node, "expected a log group name") }
        return s
    }

    private func fail(_ node: Node, _ message: String) -> RuleDiagnostic {
        // Yams marks are 1-based already.
        RuleDiagnostic(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, message: message)
    }

    private func diagnostic(_ error: YamlError) -> RuleDiagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return RuleDiagnostic(file: file, line: mark.line, column: mark.column, message: "YAML: \(problem)")
        default:
            return RuleDiagnostic(file: file, line: 1, column: 1, message: "YAML: \(error)")
        }
    }
}
