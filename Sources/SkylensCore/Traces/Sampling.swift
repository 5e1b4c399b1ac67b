/// An X-Ray sampling rule (`AWS::XRay::SamplingRule`), served to the SDKs' centralized samplers.
package struct SamplingRule: Sendable, Equatable {
    package var name: String
    package var priority: Int
    /// 0...1: the share of requests sampled beyond the reservoir.
    package var fixedRate: Double
    /// Requests per second sampled before the fixed rate applies, shared by every client of the rule.
    package var reservoirSize: Int
    package var serviceName = "*"
    package var serviceType = "*"
    package var host = "*"
    package var httpMethod = "*"
    package var urlPath = "*"
    package var resourceARN = "*"
    package var attributes: [String: String] = [:]

    package init(name: String, priority: Int, fixedRate: Double, reservoirSize: Int) {
        self.name = name
        self.priority = priority
        self.fixedRate = fixedRate
        self.reservoirSize = reservoirSize
    }

    /// X-Ray's default rule: the first request each second, and 5% of any further requests.
    package static let `default` = SamplingRule(name: "Default", priority: 10_000, fixedRate: 0.05, reservoirSize: 1)

    /// Checks a rule as CreateSamplingRule does; nil when valid, else the problem.
    package var problem: String? {
        if name.isEmpty || name.count > 32 { return "RuleName is 1 to 32 characters" }
        if name == "Default" { return "RuleName Default is reserved for the default rule" }
        if !(1...9999).contains(priority) { return "Priority is 1 to 9999" }
        if !(0...1).contains(fixedRate) { return "FixedRate is between 0 and 1" }
        if reservoirSize < 0 { return "ReservoirSize is 0 or more" }
        return nil
    }
}

/// The reservoir quotas handed to clients: a rule's reservoir is split between the clients that reported on it
/// in the last interval, as X-Ray does, so together they sample at most `reservoirSize` requests a second.
package struct SamplingQuotas: Sendable {
    /// How often clients report and how long a quota lasts (seconds).
    package static let interval: Int64 = 10
    /// Rule name → client id → last report (epoch seconds).
    private var reports: [String: [String: Int64]] = [:]

    package init() {}

    /// Records a client's report and returns its quota for the rule.
    package mutating func report(rule: SamplingRule, client: String, now: Int64) -> Int {
        var clients = reports[rule.name, default: [:]]
        clients[client] = now
        clients = clients.filter { now - $0.value <= Self.interval * 2 }
        reports[rule.name] = clients
        let share = rule.reservoirSize / max(1, clients.count)
        // A client still gets one request a second while the reservoir is smaller than the number of clients...
        // only the first of them (by id), so the total stays within the reservoir.
        if share == 0, rule.reservoirSize > 0 {
            let sorted = clients.keys.sorted()
            return sorted.prefix(rule.reservoirSize).contains(client) ? 1 : 0
        }
        return share
    }
}
