/// The pure rules of `PutLogEvents`: batch limits and which events are rejected as too old, too new or expired.
///
/// Takes `now` as a parameter; reads no clock.
package enum PutLogEventsPolicy {
    package static let maxEvents = 10_000
    package static let maxBatchBytes = 1_048_576
    package static let perEventOverhead = 26
    package static let maxEventBytes = 262_144
    package static let maxSpanMillis: Int64 = 24 * 3_600_000
    package static let tooOldMillis: Int64 = 14 * 86_400_000
    package static let tooNewMillis: Int64 = 2 * 3_600_000

    /// What `PutLogEvents` reports in `rejectedLogEventsInfo`; `nil` fields are absent.
    package struct Rejected: Sendable, Equatable {
        package var tooOldLogEventEndIndex: Int?
        package var tooNewLogEventStartIndex: Int?
        package var expiredLogEventEndIndex: Int?
        package var isEmpty: Bool { tooOldLogEventEndIndex == nil && tooNewLogEventStartIndex == nil && expiredLogEventEndIndex == nil }
    }

    /// The outcome of validating a batch: the index range of events to store, and those rejected.
    package struct Decision: Sendable, Equatable {
        package var accepted: Range<Int>
        package var rejected: Rejected
    }

    /// Validates `batch` and decides which events are stored.
    ///
    /// Whole-request errors (empty batch, too many events, too many bytes, an oversized event, events out of order,
    /// a span over 24 hours) throw `InvalidParameterException`. Events too old (over 14 days), older than the
    /// group's retention, or too new (over 2 hours ahead) are skipped and reported, as AWS does.
    package static func decide(_ batch: LogBatch, now: Int64, retentionDays: Int?) throws(LogsError) -> Decision {
        guard !batch.isEmpty else {
            throw .invalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        guard batch.count <= maxEvents else {
            throw .invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to \(maxEvents)")
        }
        var total = 0
        for i in 0..<batch.count {
            let size = batch.messageSize(i)
            if size == 0 {
                throw .invalid("1 validation error detected: Value '' at 'logEvents.\(i + 1).member.message' failed to satisfy constraint: Member must have length greater than or equal to 1")
            }
            if size + perEventOverhead > maxEventBytes {
                throw .invalid("Log event too large: event \(i) is \(size) bytes; the maximum is \(maxEventBytes - perEventOverhead) bytes")
            }
            total += size + perEventOverhead
            if i > 0 && batch.timestamps[i] < batch.timestamps[i - 1] {
                throw .invalid("Log events in a single PutLogEvents request must be in chronological order.")
            }
        }
        guard total <= maxBatchBytes else {
            throw .invalid("Upload too large: \(total) bytes exceeds limit of \(maxBatchBytes)")
        }
        if let first = batch.timestamps.first, let last = batch.timestamps.last, last - first > maxSpanMillis {
            throw .invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
        }

        var rejected = Rejected()
        let ts = batch.timestamps
        // Events are sorted: the too-old and expired ones form a prefix, the too-new ones a suffix.
        var start = 0
        if let days = retentionDays {
            let cutoff = now - Int64(days) * 86_400_000
            var end = -1
            while end + 1 < ts.count && ts[end + 1] < cutoff { end += 1 }
            if end >= 0 { rejected.expiredLogEventEndIndex = end; start = end + 1 }
        }
        let oldCutoff = now - tooOldMillis
        var oldEnd = -1
        while oldEnd + 1 < ts.count && ts[oldEnd + 1] < oldCutoff { oldEnd += 1 }
        if oldEnd >= 0 {
            rejected.tooOldLogEventEndIndex = oldEnd
            start = max(start, oldEnd + 1)
        }
        let newCutoff = now + tooNewMillis
        var newStart = ts.count
        while newStart > 0 && ts[newStart - 1] > newCutoff { newStart -= 1 }
        if newStart < ts.count { rejected.tooNewLogEventStartIndex = newStart }
        let end = max(start, newStart)
        return Decision(accepted: start..<end, rejected: rejected)
    }
}
