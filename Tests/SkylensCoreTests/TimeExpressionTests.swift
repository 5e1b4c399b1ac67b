import Testing
@testable import SkylensCore

struct TimeExpressionTests {
    let now: Int64 = 1_714_521_600_000 // 2024-05-01T00:00:00Z

    @Test(arguments: [("15m", 900_000), ("1h", 3_600_000), ("2d", 172_800_000), ("1h30m", 5_400_000), ("30s", 30_000), ("1w", 604_800_000)] as [(String, Int64)])
    func durationsCountBackFromNow(_ text: String, _ millis: Int64) throws {
        #expect(try TimeExpression.resolve(text, now: now) == now - millis)
    }

    @Test func isoDatesAndEpochMillis() throws {
        #expect(try TimeExpression.resolve("2024-05-01", now: 0) == now)
        #expect(try TimeExpression.resolve("2024-05-01T00:00:01Z", now: 0) == now + 1000)
        #expect(try TimeExpression.resolve("2024-05-01T02:00:00+02:00", now: 0) == now)
        #expect(try TimeExpression.resolve("2024-05-01T00:00:00.250Z", now: 0) == now + 250)
        #expect(try TimeExpression.resolve("1714521600000", now: 0) == now)
    }

    @Test(arguments: ["yesterday", "15", "m15", "2024-13-01", "2024-05-01T25:00:00Z", ""])
    func rejectsWhatItCannotRead(_ text: String) {
        #expect(throws: TimeExpression.ParseError.self) { try TimeExpression.resolve(text, now: now) }
    }

    @Test func formatsUTC() {
        #expect(TimeExpression.format(now + 1_234) == "2024-05-01T00:00:01.234Z")
        #expect(TimeExpression.format(0) == "1970-01-01T00:00:00.000Z")
    }
}
