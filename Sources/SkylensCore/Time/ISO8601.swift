/// ISO 8601 timestamps as the AWS query protocol and alarm messages write them (`2026-11-26T21:00:00Z`,
/// `…00.123Z`, `…00+01:00`), and the calendar arithmetic behind every date Skylens reads or writes, without
/// Foundation's formatters.
package enum ISO8601 {
    /// Epoch seconds of an ISO 8601 date-time (as `TimeExpression.parseISO8601` reads them: a date alone or without
    /// an offset is UTC), or nil.
    package static func seconds(_ text: String) -> Double? {
        TimeExpression.parseISO8601(text).map { Double($0) / 1000 }
    }

    /// `2026-11-26T21:00:00Z`, or with milliseconds when `seconds` has a fraction (`…00.250Z`).
    package static func string(_ seconds: Double) -> String {
        let c = components(Int64((seconds * 1000).rounded()))
        var out = "\(c.year)-\(pad2(c.month))-\(pad2(c.day))T\(pad2(c.hour)):\(pad2(c.minute)):\(pad2(c.second))"
        if c.millisecond != 0 { out += "." + pad3(c.millisecond) }
        return out + "Z"
    }

    package static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    package static func pad3(_ v: Int) -> String { v < 10 ? "00\(v)" : v < 100 ? "0\(v)" : "\(v)" }

    /// Year, month, day, hour, minute, second and millisecond (UTC) of epoch milliseconds.
    package static func components(_ millis: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        let whole = Int(millis.quotientRoundingDown(1000))
        let ms = Int(millis - Int64(whole) * 1000)
        let days = whole.quotientRoundingDown(86_400)
        let rest = whole - days * 86_400
        let (y, m, d) = civilFromDays(days)
        return (y, m, d, rest / 3600, rest / 60 % 60, rest % 60, ms)
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension BinaryInteger {
    /// Division rounding towards negative infinity.
    func quotientRoundingDown(_ divisor: Self) -> Self {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
