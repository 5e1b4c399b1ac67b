/// An alarm with its state, as stored.
package struct StoredAlarm: Sendable, Equatable {
    package var alarm: MetricAlarm
    package var state: AlarmState
    package var reason: String
    /// StateReasonData as a JSON string (absent on creation and for SetAlarmState without data).
    package var reasonData: String?
    /// When the state value or reason last changed (epoch ms).
    package var stateUpdated: Int64
    /// When the state value last changed.
    package var stateTransitioned: Int64
    package var configurationUpdated: Int64

    package init(alarm: MetricAlarm, state: AlarmState, reason: String, reasonData: String?, stateUpdated: Int64,
                 stateTransitioned: Int64, configurationUpdated: Int64) {
        self.alarm = alarm
        self.state = state
        self.reason = reason
        self.reasonData = reasonData
        self.stateUpdated = stateUpdated
        self.stateTransitioned = stateTransitioned
        self.configurationUpdated = configurationUpdated
    }

    /// The reason a new alarm starts with, as CloudWatch writes it.
    package static let initialReason = "Unchecked: Initial alarm creation"
}

/// One entry of an alarm's history (DescribeAlarmHistory).
package struct AlarmHistoryItem: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case configurationUpdate = "ConfigurationUpdate"
        case stateUpdate = "StateUpdate"
        case action = "Action"
    }

    package var alarmName: String
    package var timestamp: Int64
    package var kind: Kind
    package var summary: String
    /// HistoryData: a JSON document as text.
    package var data: String

    package init(alarmName: String, timestamp: Int64, kind: Kind, summary: String, data: String) {
        self.alarmName = alarmName
        self.timestamp = timestamp
        self.kind = kind
        self.summary = summary
        self.data = data
    }
}

/// A new state for an alarm, with the history item that records it.
package struct AlarmStateChange: Sendable, Equatable {
    package var name: String
    package var state: AlarmState
    package var reason: String
    package var reasonData: String?
    package var history: AlarmHistoryItem?

    package init(name: String, state: AlarmState, reason: String, reasonData: String?, history: AlarmHistoryItem?) {
        self.name = name
        self.state = state
        self.reason = reason
        self.reasonData = reasonData
        self.history = history
    }
}

/// The port through which alarms, their states and their history are kept. `SkylensStorage` implements it.
package protocol AlarmStore: Sendable {
    /// Creates the alarm in INSUFFICIENT_DATA, or updates its configuration keeping its state; records a
    /// ConfigurationUpdate history item either way.
    func put(_ alarm: MetricAlarm, now: Int64) async throws -> StoredAlarm
    /// Alarms by exact names (when given), name prefix and state, ordered by name.
    func alarms(names: [String]?, prefix: String?, state: AlarmState?) async throws -> [StoredAlarm]
    /// Removes the alarms and their history; returns the names that did not exist.
    func delete(names: [String]) async throws -> [String]
    /// Turns actions on or off; returns the names that did not exist.
    func setActionsEnabled(names: [String], enabled: Bool, now: Int64) async throws -> [String]
    /// Stores new states (value, reason, data) with their StateUpdate history items, all in one transaction;
    /// returns the names that did not exist.
    func setStates(_ changes: [AlarmStateChange], now: Int64) async throws -> [String]
    /// Appends a history item (Action items, for example).
    func append(_ item: AlarmHistoryItem) async throws
    /// History, newest first, optionally for one alarm, of one kind, within [start, end).
    func history(name: String?, kind: AlarmHistoryItem.Kind?, start: Int64?, end: Int64?, limit: Int) async throws -> [AlarmHistoryItem]
}
