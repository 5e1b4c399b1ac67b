import SkylensCore

/// The metric filters of every log group, compiled and ready for ingest: those created through the API (backed by
/// the `MetricFilterStore`, loaded on first use, changed through ``put(_:)`` and ``delete(group:name:)``) and those
/// declared in `rules/` (fixed at start-up; a group name ending in `*` covers every group with that prefix).
package actor MetricFilterRegistry {
    private let store: any MetricFilterStore
    private var sets: [String: MetricFilterSet] = [:]
    private var definitions: [String: [String: StoredMetricFilter]] = [:]
    private var loaded = false
    private let ruleFilters: [(definition: StoredMetricFilter, filter: MetricFilter)]

    /// `rules` must already be valid (the rules loader checked them); an invalid one is left out.
    package init(store: any MetricFilterStore, rules: [StoredMetricFilter] = []) {
        self.store = store
        ruleFilters = rules.compactMap { d in
            (try? MetricFilter(name: d.name, pattern: d.pattern, transformation: d.transformation)).map { (d, $0) }
        }
    }

    private func ruleFilters(for group: String) -> [(definition: StoredMetricFilter, filter: MetricFilter)] {
        ruleFilters.filter { $0.definition.applies(to: group) }
    }

    private func ensureLoaded() async throws {
        guard !loaded else { return }
        for definition in try await store.allMetricFilters() {
            // A stored filter that no longer parses (a stricter version) is skipped rather than blocking ingest.
            guard let filter = try? MetricFilter(name: definition.name, pattern: definition.pattern,
                                                 transformation: definition.transformation) else { continue }
            try? sets[definition.group, default: MetricFilterSet()].put(filter)
            definitions[definition.group, default: [:]][definition.name] = definition
        }
        loaded = true
    }

    /// The compiled filters of `group`: its own, then the rules that cover it.
    package func filters(for group: String) async throws -> [MetricFilter] {
        try await ensureLoaded()
        let rules = ruleFilters(for: group).map(\.filter)
        return (sets[group]?.filters ?? []) + rules
    }

    /// Validates, enforces the group's quotas, persists, then applies: events ingested from now on are filtered.
    package func put(_ definition: StoredMetricFilter) async throws {
        try await ensureLoaded()
        let filter = try MetricFilter(name: definition.name, pattern: definition.pattern, transformation: definition.transformation)
        var set = sets[definition.group] ?? MetricFilterSet()
        try set.put(filter)
        var stored = definition
        if let existing = definitions[definition.group]?[definition.name] { stored.creationTime = existing.creationTime }
        try await store.putMetricFilter(stored)
        sets[definition.group] = set
        definitions[definition.group, default: [:]][definition.name] = stored
    }

    package func delete(group: String, name: String) async throws {
        try await ensureLoaded()
        try await store.deleteMetricFilter(group: group, name: name)
        try? sets[group]?.delete(name)
        definitions[group]?[name] = nil
    }

    /// Forgets a deleted group's filters (storage deletes them with the group).
    package func groupDeleted(_ group: String) {
        sets[group] = nil
        definitions[group] = nil
    }

    /// Definitions for DescribeMetricFilters, ordered by group then filter name.
    package func describe(group: String?, namePrefix: String?, metricName: String?, metricNamespace: String?) async throws -> [StoredMetricFilter] {
        try await ensureLoaded()
        var all = definitions.values.flatMap(\.values)
        if let group {
            all += ruleFilters(for: group).map { rule in
                var d = rule.definition
                d.group = group
                return d
            }
        }
        return all
            .filter { d in
                (group.map { d.group == $0 } ?? true)
                    && (namePrefix.map { d.name.hasPrefix($0) } ?? true)
                    && (metricName.map { d.transformation.metricName == $0 } ?? true)
                    && (metricNamespace.map { d.transformation.metricNamespace == $0 } ?? true)
            }
            .sorted { ($0.group, $0.name) < ($1.group, $1.name) }
    }
}
