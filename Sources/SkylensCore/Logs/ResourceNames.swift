/// Validation of CloudWatch Logs resource names, as the API reference defines them.
///
/// - log group: 1–512 characters of `[\.\-_/#A-Za-z0-9]`
/// - log stream: 1–512 characters, neither `:` nor `*`
package enum ResourceNames {
    /// Throws `InvalidParameterException` text when `name` is not a valid log group name.
    package static func validateGroup(_ name: String, field: String = "logGroupName") throws(LogsError) {
        let utf8 = name.utf8
        guard !utf8.isEmpty else {
            throw .invalid("1 validation error detected: Value '' at '\(field)' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        guard name.count <= 512 else {
            throw .invalid("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must have length less than or equal to 512")
        }
        for byte in utf8 where !isGroupByte(byte) {
            throw .invalid("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
        }
    }

    /// Throws `InvalidParameterException` text when `name` is not a valid log stream name.
    package static func validateStream(_ name: String, field: String = "logStreamName") throws(LogsError) {
        guard !name.isEmpty else {
            throw .invalid("1 validation error detected: Value '' at '\(field)' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        guard name.count <= 512 else {
            throw .invalid("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must have length less than or equal to 512")
        }
        if name.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "*") }) {
            throw .invalid("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")
        }
    }

    private static func isGroupByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "#"):
            return true
        default:
            return false
        }
    }

    /// Retention periods that `PutRetentionPolicy` accepts, in days.
    package static let retentionDays: Set<Int> = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ]
}
