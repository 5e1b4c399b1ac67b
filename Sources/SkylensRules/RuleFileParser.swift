import Foundation
import SkylensCore
import SkylensWire
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
/// Supported: `AWS::Logs::LogGroup`, `AWS::Logs::MetricFilter`, `AWS::SNS::Topic`, `AWS::SNS::Subscription` and
/// `AWS::CloudWatch::Alarm`; any other type is an error naming it. Between resources: `Ref` (a log group's name, a
/// topic's ARN, a parameter's Default), `Fn::GetAtt` (`Topic.TopicArn`, `Topic.TopicName`) and `Fn::Sub` (with
/// `${AWS::Region}`, `${AWS::AccountId}`, `${AWS::Partition}`, `${Id}` and `${Id.Attribute}`), in short (`!Ref`) and
/// long (`{ Ref: … }`) forms. Alarms are validated exactly as PutMetricAlarm validates them.
package struct RuleFileParser {
    let file: String
    let text: String
    let region: String
    let account: String

    package init(file: String, text: String, region: String = "us-east-1", account: String = "000000000000") {
        self.file = file
        self.text = text
        self.region = region
        self.account = account
    }

    /// What `Ref` and `Fn::GetAtt` resolve to in one file.
    struct Symbols {
        var refs: [String: String] = [:]
        var attributes: [String: String] = [:]
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
        // What Ref and GetAtt resolve to: log group names, topic ARNs and names, alarm names, parameter defaults.
        var symbols = Symbols()
        for (key, value) in resources {
            guard let id = key.string, let type = value.mapping?["Type"]?.string else { continue }
            let properties = value.mapping?["Properties"]?.mapping
            switch type {
            case "AWS::Logs::LogGroup":
                symbols.refs[id] = properties?["LogGroupName"]?.string ?? id
            case "AWS::SNS::Topic":
                let name = properties?["TopicName"]?.string ?? id
                let arn = "arn:aws:sns:\(region):\(account):\(name)"
                symbols.refs[id] = arn
                symbols.attributes["\(id).TopicArn"] = arn
                symbols.attributes["\(id).TopicName"] = name
            case "AWS::CloudWatch::Alarm":
                let name = properties?["AlarmName"]?.string ?? id
                symbols.refs[id] = name
                symbols.attributes["\(id).Arn"] = AlarmDocuments.arn(name, region: region, account: account)
            default:
                break
            }
        }
        for (param, value) in parameters ?? [:] {
            if let id = param.string, let d = value.mapping?["Default"]?.string { symbols.refs[id] = symbols.refs[id] ?? d }
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
                    try metricFilter(id, properties, at: value, symbols: symbols, into: &rules)
                case "AWS::SNS::Topic":
                    try topic(id, properties, at: value, symbols: symbols, into: &rules)
                case "AWS::SNS::Subscription":
                    try subscription(id, properties, at: value, symbols: symbols, into: &rules)
                case "AWS::CloudWatch::Alarm":
                    try alarm(id, properties, at: value, symbols: symbols, into: &rules)
                case "AWS::XRay::SamplingRule":
                    try samplingRule(id, properties, at: value, symbols: symbols, into: &rules)
                default:
                    throw fail(resource["Type"] ?? value, "\(type) is not supported by Skylens yet (supported: AWS::Logs::LogGroup, "
                        + "AWS::Logs::MetricFilter, AWS::SNS::Topic, AWS::SNS::Subscription, AWS::CloudWatch::Alarm, "
                        + "AWS::XRay::SamplingRule)")
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

    private func metricFilter(_ id: String, _ p: Node.Mapping, at node: Node, symbols: Symbols, into rules: inout RuleSet) throws {
        guard let groupNode = p["LogGroupName"] else { throw fail(node, "\(id): LogGroupName is required") }
        let group = try value(groupNode, symbols)
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

    private func topic(_ id: String, _ p: Node.Mapping, at node: Node, symbols: Symbols, into rules: inout RuleSet) throws {
        let name = try p["TopicName"].map { try value($0, symbols) } ?? id
        guard (1...256).contains(name.utf8.count),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else { throw fail(p["TopicName"] ?? node, "\(id): TopicName is 1 to 256 letters, digits, hyphens and underscores") }
        rules.topics.append(.init(name: name, displayName: try p["DisplayName"].map { try value($0, symbols) } ?? ""))
        let arn = "arn:aws:sns:\(region):\(account):\(name)"
        // Inline subscriptions: `Subscription: [{ Protocol: https, Endpoint: … }]`.
        for s in p["Subscription"]?.sequence ?? [] {
            guard let m = s.mapping, let proto = m["Protocol"], let endpoint = m["Endpoint"] else {
                throw fail(s, "\(id): each Subscription is { Protocol, Endpoint }")
            }
            try addSubscription(id, topicArn: arn, protocolNode: proto, endpointNode: endpoint, raw: nil, policy: nil, symbols: symbols,
                                into: &rules)
        }
    }

    private func subscription(_ id: String, _ p: Node.Mapping, at node: Node, symbols: Symbols, into rules: inout RuleSet) throws {
        guard let topicNode = p["TopicArn"], let proto = p["Protocol"], let endpoint = p["Endpoint"] else {
            throw fail(node, "\(id): TopicArn, Protocol and Endpoint are required")
        }
        try addSubscription(id, topicArn: try value(topicNode, symbols), protocolNode: proto, endpointNode: endpoint,
                            raw: p["RawMessageDelivery"], policy: p["DeliveryPolicy"], symbols: symbols, into: &rules)
    }

    private func addSubscription(_ id: String, topicArn: String, protocolNode: Node, endpointNode: Node, raw: Node?, policy: Node?,
                                 symbols: Symbols, into rules: inout RuleSet) throws {
        let proto = try value(protocolNode, symbols)
        guard proto == "http" || proto == "https" else { throw fail(protocolNode, "\(id): Skylens delivers to http and https endpoints") }
        let endpoint = try value(endpointNode, symbols)
        guard endpoint.hasPrefix(proto + "://") else { throw fail(endpointNode, "\(id): Endpoint must be a \(proto):// URL") }
        var policyJSON: String?
        if let policy {
            let text = try policy.string ?? String(decoding: typed(policy, symbols).jsonBytes, as: UTF8.self)
            do { _ = try DeliveryPolicy(json: text) } catch { throw fail(policy, "\(id): DeliveryPolicy: \(error.message)") }
            policyJSON = text
        }
        let rawDelivery = try raw.map { try value($0, symbols) == "true" } ?? false
        rules.subscriptions.append(.init(topicArn: topicArn, protocolName: proto, endpoint: endpoint, rawMessageDelivery: rawDelivery,
                                         deliveryPolicy: policyJSON))
    }

    private func alarm(_ id: String, _ p: Node.Mapping, at node: Node, symbols: Symbols, into rules: inout RuleSet) throws {
        guard case .map(var members) = try wire(Node.mapping(p), symbols) else { throw fail(node, "\(id): Properties must be a mapping") }
        if !members.contains(where: { $0.0 == "AlarmName" }) { members.append(("AlarmName", .text(id))) }
        do {
            rules.alarms.append(try CloudWatchRequests.putMetricAlarm(.map(members)))
        } catch {
            // Point at the property the message names, when there is one.
            let at = p.first { key, _ in key.string.map { error.message.contains($0) } ?? false }?.key ?? node
            throw fail(at, "\(id): \(error.message)")
        }
    }

    /// `Properties: { SamplingRule: { RuleName, Priority, FixedRate, ReservoirSize, ServiceName, … } }`.
    private func samplingRule(_ id: String, _ p: Node.Mapping, at node: Node, symbols: Symbols, into rules: inout RuleSet) throws {
        guard let r = p["SamplingRule"]?.mapping else { throw fail(node, "\(id): SamplingRule is required") }
        func number(_ key: String) throws -> Double {
            guard let n = r[key], let v = n.float else { throw fail(p["SamplingRule"] ?? node, "\(id): \(key) is required (a number)") }
            return v
        }
        let name = try r["RuleName"].map { try value($0, symbols) } ?? id
        var rule = SamplingRule(name: name, priority: Int(try number("Priority")), fixedRate: try number("FixedRate"),
                                reservoirSize: Int(try number("ReservoirSize")))
        rule.serviceName = try r["ServiceName"].map { try value($0, symbols) } ?? "*"
        rule.serviceType = try r["ServiceType"].map { try value($0, symbols) } ?? "*"
        rule.host = try r["Host"].map { try value($0, symbols) } ?? "*"
        rule.httpMethod = try r["HTTPMethod"].map { try value($0, symbols) } ?? "*"
        rule.urlPath = try r["URLPath"].map { try value($0, symbols) } ?? "*"
        rule.resourceARN = try r["ResourceARN"].map { try value($0, symbols) } ?? "*"
        for (k, v) in r["Attributes"]?.mapping ?? [:] {
            if let key = k.string { rule.attributes[key] = try value(v, symbols) }
        }
        if let problem = rule.problem { throw fail(p["SamplingRule"] ?? node, "\(id): \(problem)") }
        guard !rules.samplingRules.contains(where: { $0.name == rule.name }) else {
            throw fail(node, "\(id): a sampling rule named \(rule.name) is already declared")
        }
        rules.samplingRules.append(rule)
    }

    /// A property as a protocol-neutral document, intrinsic functions resolved; scalars stay untyped text, read as the
    /// type the alarm's parser asks for (as in the query protocol).
    private func wire(_ node: Node, _ symbols: Symbols) throws -> WireValue {
        if let resolved = try intrinsic(node, symbols) { return .text(resolved) }
        switch node {
        case .mapping(let m):
            return .map(try m.map { key, value in
                guard let k = key.string else { throw fail(key, "expected a property name") }
                return (k, try wire(value, symbols))
            })
        case .sequence(let s):
            return .array(try s.map { try wire($0, symbols) })
        default:
            return .text(node.string ?? "")
        }
    }

    /// A YAML value as a JSON document with YAML's scalar types (an embedded JSON property such as DeliveryPolicy).
    private func typed(_ node: Node, _ symbols: Symbols) throws -> WireValue {
        if let resolved = try intrinsic(node, symbols) { return .string(resolved) }
        switch node {
        case .mapping(let m):
            return .map(try m.map { key, value in
                guard let k = key.string else { throw fail(key, "expected a property name") }
                return (k, try typed(value, symbols))
            })
        case .sequence(let s):
            return .array(try s.map { try typed($0, symbols) })
        default:
            if node.tag.description.hasSuffix(":int"), let i = node.int { return .int(Int64(i)) }
            if node.tag.description.hasSuffix(":float"), let f = node.float { return .double(f) }
            if node.tag.description.hasSuffix(":bool"), let b = node.bool { return .bool(b) }
            if node.tag.description.hasSuffix(":null") { return .null }
            return .string(node.string ?? "")
        }
    }

    /// A string: plain, or `Ref` / `Fn::GetAtt` / `Fn::Sub` in short or long form.
    private func value(_ node: Node, _ symbols: Symbols) throws -> String {
        if let resolved = try intrinsic(node, symbols) { return resolved }
        guard let s = node.string else { throw fail(node, "expected a string, !Ref, !GetAtt or !Sub") }
        return s
    }

    /// The value of an intrinsic function, or nil when `node` is not one.
    private func intrinsic(_ node: Node, _ symbols: Symbols) throws -> String? {
        let tag = node.tag.description
        func named(_ name: String) -> Bool { tag == "!\(name)" || tag.hasSuffix(":\(name)") }
        func ref(_ id: String, at n: Node) throws -> String {
            guard let v = symbols.refs[id] ?? pseudo(id) else { throw fail(n, "Ref \(id) names no resource or parameter of this file") }
            return v
        }
        func getAtt(_ parts: [String], at n: Node) throws -> String {
            guard parts.count == 2, let v = symbols.attributes["\(parts[0]).\(parts[1])"] else {
                throw fail(n, "GetAtt \(parts.joined(separator: ".")) names no attribute Skylens knows (Topic.TopicArn, Topic.TopicName, Alarm.Arn)")
            }
            return v
        }
        if named("Ref"), let id = node.string { return try ref(id, at: node) }
        if named("GetAtt") {
            if let text = node.string { return try getAtt(text.split(separator: ".", maxSplits: 1).map(String.init), at: node) }
            if let list = node.sequence { return try getAtt(list.compactMap(\.string), at: node) }
        }
        if named("Sub"), let text = node.string { return try substitute(text, at: node, symbols) }
        guard let m = node.mapping, m.count == 1, let (key, argument) = m.first, let name = key.string else { return nil }
        switch name {
        case "Ref":
            guard let id = argument.string else { throw fail(argument, "Ref takes a logical id") }
            return try ref(id, at: argument)
        case "Fn::GetAtt":
            if let text = argument.string { return try getAtt(text.split(separator: ".", maxSplits: 1).map(String.init), at: argument) }
            return try getAtt(argument.sequence?.compactMap(\.string) ?? [], at: argument)
        case "Fn::Sub":
            guard let text = argument.string else { throw fail(argument, "Fn::Sub takes a string (the list form is not supported)") }
            return try substitute(text, at: argument, symbols)
        case let other where other.hasPrefix("Fn::"):
            throw fail(key, "\(other) is not supported (Ref, Fn::GetAtt and Fn::Sub are)")
        default:
            return nil
        }
    }

    private func pseudo(_ name: String) -> String? {
        switch name {
        case "AWS::Region": region
        case "AWS::AccountId": account
        case "AWS::Partition": "aws"
        default: nil
        }
    }

    /// `Fn::Sub`: `${Name}` is a Ref (or a pseudo parameter), `${Id.Attribute}` a GetAtt, `${!Literal}` is `${Literal}`.
    private func substitute(_ text: String, at node: Node, _ symbols: Symbols) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw fail(node, "Sub: unclosed ${ in \(text)") }
            let name = String(rest[open.upperBound..<close])
            if name.hasPrefix("!") {
                out += "${" + name.dropFirst() + "}"
            } else if let v = symbols.refs[name] ?? pseudo(name) ?? symbols.attributes[name] {
                out += v
            } else {
                throw fail(node, "Sub: ${\(name)} names no resource, attribute or parameter of this file")
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
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
