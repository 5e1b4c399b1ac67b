/// How CloudWatch writes numbers and times in alarm reasons and messages.
package enum AlarmFormat {
    /// A double as Java's `Double.toString` writes it (CloudWatch's reasons do): `50.0`, `0.0666851903306472`,
    /// `1.0E7`, `1.0E-4`.
    package static func javaDouble(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : v > 0 ? "Infinity" : "-Infinity" }
        if v == 0 { return v.sign == .minus ? "-0.0" : "0.0" }
        let magnitude = abs(v)
        if magnitude >= 1e-3 && magnitude < 1e7 {
            let text = "\(v)"
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        }
        // Scientific: one digit before the point, at least one after, "E" and the exponent.
        var exponent = Int(log10(magnitude))
        var mantissa = v / pow10(exponent)
        if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
        if abs(mantissa) < 1 { mantissa *= 10; exponent -= 1 }
        var digits = "\(mantissa)"
        if !digits.contains(".") { digits += ".0" }
        return "\(digits)E\(exponent)"
    }

    private static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }

    private static func log10(_ x: Double) -> Double {
        var e = 0.0
        var v = x
        while v >= 10 { v /= 10; e += 1 }
        while v < 1 { v *= 10; e -= 1 }
        return e
    }

    /// The timestamp of a datapoint in a reason: `dd/MM/yy HH:mm:ss` (UTC).
    package static func reasonDate(_ millis: Int64) -> String {
        let c = ISO8601.components(millis)
        return "\(ISO8601.pad2(c.day))/\(ISO8601.pad2(c.month))/\(ISO8601.pad2(c.year % 100)) "
            + "\(ISO8601.pad2(c.hour)):\(ISO8601.pad2(c.minute)):\(ISO8601.pad2(c.second))"
    }

    /// `2015-06-03T17:43:27.123+0000`: StateChangeTime, queryDate, startDate.
    package static func timestamp(_ millis: Int64) -> String {
        let c = ISO8601.components(millis)
        return "\(c.year)-\(ISO8601.pad2(c.month))-\(ISO8601.pad2(c.day))T\(ISO8601.pad2(c.hour)):\(ISO8601.pad2(c.minute)):"
            + "\(ISO8601.pad2(c.second)).\(ISO8601.pad3(c.millisecond))+0000"
    }
}
