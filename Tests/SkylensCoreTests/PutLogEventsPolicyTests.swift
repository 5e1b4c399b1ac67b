import Testing
@testable import SkylensCore

struct PutLogEventsPolicyTests {
    let now: Int64 = 1_800_000_000_000
    let day: Int64 = 86_400_000

    func batch(_ timestamps: [Int64], message: String = "m") -> LogBatch {
        LogBatch(timestamps.map { ($0, message) })
    }

    @Test func acceptsAnOrdinaryBatch() throws {
        let d = try PutLogEventsPolicy.decide(batch([now - 10, now - 5, now]), now: now, retentionDays: nil)
        #expect(d.accepted == 0..<3)
        #expect(d.rejected.isEmpty)
    }

    @Test func rejectsTooOldTooNewAndExpiredEvents() throws {
        let hour: Int64 = 3_600_000
        let old = try PutLogEventsPolicy.decide(batch([now - 14 * day - 3 * hour, now - 14 * day - hour, now - 14 * day + hour]),
                                                now: now, retentionDays: nil)
        #expect(old.rejected.tooOldLogEventEndIndex == 1)
        #expect(old.rejected.tooNewLogEventStartIndex == nil)
        #expect(old.accepted == 2..<3)
        let new = try PutLogEventsPolicy.decide(batch([now - hour, now, now + 2 * hour + 1]), now: now, retentionDays: nil)
        #expect(new.rejected.tooNewLogEventStartIndex == 2)
        #expect(new.accepted == 0..<2)
        let expired = try PutLogEventsPolicy.decide(batch([now - day - hour, now - hour]), now: now, retentionDays: 1)
        #expect(expired.rejected.expiredLogEventEndIndex == 0)
        #expect(expired.accepted == 1..<2)
        let allOld = try PutLogEventsPolicy.decide(batch([now - 20 * day]), now: now, retentionDays: nil)
        #expect(allOld.accepted.isEmpty)
    }

    @Test func wholeRequestErrors() {
        #expect(throws: LogsError.self) { try PutLogEventsPolicy.decide(LogBatch(), now: now, retentionDays: nil) }
        #expect(throws: LogsError.invalid("Log events in a single PutLogEvents request must be in chronological order.")) {
            try PutLogEventsPolicy.decide(batch([now, now - 1]), now: now, retentionDays: nil)
        }
        #expect(throws: LogsError.invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")) {
            try PutLogEventsPolicy.decide(batch([now - 25 * 3_600_000, now]), now: now, retentionDays: nil)
        }
        #expect(throws: LogsError.self) {
            try PutLogEventsPolicy.decide(batch(Array(repeating: now, count: 10_001)), now: now, retentionDays: nil)
        }
        #expect(throws: LogsError.self) { try PutLogEventsPolicy.decide(batch([now], message: ""), now: now, retentionDays: nil) }
    }

    @Test func sizeLimitsCountTwentySixBytesPerEvent() throws {
        // 4 events of 262,118 bytes: each exactly at the per-event limit, together 1,048,576 bytes with overhead.
        let big = String(repeating: "x", count: 262_118)
        let ok = LogBatch((0..<4).map { _ in (now, big) })
        #expect(try PutLogEventsPolicy.decide(ok, now: now, retentionDays: nil).accepted == 0..<4)
        var tooMany = ok
        tooMany.append(timestamp: now, message: Array("y".utf8))
        #expect(throws: LogsError.self) { try PutLogEventsPolicy.decide(tooMany, now: now, retentionDays: nil) }
        let oversized = LogBatch([(now, big + "z")])
        #expect(throws: LogsError.self) { try PutLogEventsPolicy.decide(oversized, now: now, retentionDays: nil) }
    }

    @Test func batchSliceKeepsMessages() {
        let b = LogBatch([(1, "a"), (2, "bb"), (3, "ccc")])
        let s = b.slice(1..<3)
        #expect(s.timestamps == [2, 3])
        #expect(s.message(0) == "bb")
        #expect(s.message(1) == "ccc")
    }
}
