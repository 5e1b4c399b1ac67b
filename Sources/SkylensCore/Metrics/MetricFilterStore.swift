/// The port that keeps metric filter definitions. `SkylensStorage` implements it over SQLite.
package protocol MetricFilterStore: Sendable {
    /// Every stored filter, for loading at start-up.
    func allMetricFilters() async throws -> [StoredMetricFilter]
    /// Creates or replaces the filter `definition.name` of its group; throws `ResourceNotFoundException` for an unknown group.
    func putMetricFilter(_ definition: StoredMetricFilter) async throws
    func deleteMetricFilter(group: String, name: String) async throws
}

/// A metric filter as stored: its text, so the definition can be parsed again after a restart.
package struct StoredMetricFilter: Sendable, Equatable {
    package var group: String
    package var name: String
    package var pattern: String
    package var transformation: MetricFilter.Transformation
    package var creationTime: Int64

    /// Whether the filter applies to `group`: its own group, or (a rule's `/prefix/*`) every group with that prefix.
    package func applies(to group: String) -> Bool {
        self.group.hasSuffix("*") ? group.hasPrefix(self.group.dropLast()) : self.group == group
    }

    package init(group: String, name: String, pattern: String, transformation: MetricFilter.Transformation, creationTime: Int64) {
        self.group = group
        self.name = name
        self.pattern = pattern
        self.transformation = transformation
        self.creationTime = creationTime
    }
}
