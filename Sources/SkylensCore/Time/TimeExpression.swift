/// Human-friendly times for the CLI, resolved against an explicit `now` (epoch milliseconds).
///
/// Accepted: relative durations (`30s`, `15m`, `1h`, `2d`, `1w`, combined as `1h30m`), epoch milliseconds
/// (13+ digits), and ISO 8601 dates (`2024-05-01`, `2024-05-01T10:00:00Z`, with optional fraction and offset).
package enum TimeExpression {
    package struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        package var text: String
        package var description: String {
            "cannot read '\(text)' as a time: use a duration like 15m, 1h or 2d, epoch milliseconds, or an ISO 8601 date such as 2024-05-01T10:00:00Z"
        }
    }

    /// Parses a duration such as `15m` or `1h30m` into milliseconds.
    package static func duration(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64? = nil
        var sawUnit = false
        for c in text.lowercased() {
            if let d = c.wholeNumberValue, c.isASCII {
                number = (number ?? 0) * 10 + Int64(d)
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64
            switch c {
            case "s": unit = 1_000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            case "w": unit = 604_800_000
            default: return nil
            }
            total += n * unit
            number = nil
            sawUnit = true
        }
        return (number == nil && sawUnit) ? total : nil
    }

    /// Resolves `text` to epoch milliseconds: a duration counts back from `now`.
    package static func resolve(_ text: String, now: Int64) throws(ParseError) -> Int64 {
        let trimmed = text.trimmingSpaces
        if let d = duration(trimmed) { return now - d }
        if trimmed.count >= 13, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }), let ms = Int64(trimmed) { return ms }
        if let iso = parseISO8601(trimmed) { return iso }
        throw ParseError(text: text)
    }

    /// Parses `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]` (UTC when no offset is given).
    package static func parseISO8601(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count else { return nil }
            var v = 0
            for i in r {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var i = 10
        var hh = 0, mm = 0, ss = 0, millis = 0, offsetMinutes = 0
        if i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") {
            guard let h = num(i + 1..<i + 3), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let m = num(i + 4..<i + 6),
                  h < 24, m < 60 else { return nil }
            hh = h; mm = m; i += 6
            if i < b.count, b[i] == UInt8(ascii: ":") {
                guard let s = num(i + 1..<i + 3), s < 61 else { return nil }
                ss = s; i += 3
                if i < b.count, b[i] == UInt8(ascii: ".") {
                    i += 1
                    var digits = 0
                    while i < b.count, b[i] >= 48 && b[i] <= 57 {
                        if digits < 3 { millis = millis * 10 + Int(b[i] - 48) }
                        digits += 1; i += 1
                    }
                    guard digits > 0 else { return nil }
                    for _ in digits..<max(digits, 3) { millis *= 10 }
                }
            }
            if i < b.count {
                if b[i] == UInt8(ascii: "Z") { i += 1 } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                    let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                    guard let oh = num(i + 1..<i + 3) else { return nil }
                    var om = 0
                    if i + 3 < b.count, b[i + 3] == UInt8(ascii: ":") {
                        guard let m = num(i + 4..<i + 6) else { return nil }
                        om = m; i += 6
                    } else if let m = num(i + 3..<i + 5) {
                        om = m; i += 5
                    } else { i += 3 }
                    offsetMinutes = sign * (oh * 60 + om)
                } else { return nil }
            }
        }
        guard i == b.count else { return nil }
        let days = ISO8601.daysFromCivil(y, mo, d)
        let seconds = Int64(days) * 86_400 + Int64(hh * 3600 + mm * 60 + ss) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    /// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    package static func format(_ ms: Int64) -> String {
        let c = ISO8601.components(ms)
        let year = String(c.year)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year
            + "-\(ISO8601.pad2(c.month))-\(ISO8601.pad2(c.day))T\(ISO8601.pad2(c.hour)):\(ISO8601.pad2(c.minute)):"
            + "\(ISO8601.pad2(c.second)).\(ISO8601.pad3(c.millisecond))Z"
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
