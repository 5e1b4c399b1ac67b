/// Writes JSON into a byte buffer: the response side of the hot paths, without `Encodable` overhead.
///
/// Commas are inserted automatically: call `key(_:)` before each member value inside an object.
package struct JSONWriter: Sendable {
    package private(set) var bytes: [UInt8] = []
    private var needsComma = false

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    package mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    package mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    package mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    package mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    package mutating func key(_ name: String) {
        separator()
        appendQuoted(name.utf8)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    package mutating func string(_ value: String) { separator(); appendQuoted(value.utf8); needsComma = true }
    package mutating func int(_ value: Int64) { separator(); appendDecimal(value); needsComma = true }
    package mutating func int(_ value: Int) { int(Int64(value)) }
    package mutating func bool(_ value: Bool) { separator(); bytes.append(contentsOf: (value ? "true" : "false").utf8); needsComma = true }
    package mutating func null() { separator(); bytes.append(contentsOf: "null".utf8); needsComma = true }
    /// An already-encoded JSON value, written as is.
    package mutating func raw(_ json: String) { separator(); bytes.append(contentsOf: json.utf8); needsComma = true }

    package mutating func double(_ value: Double) {
        separator()
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            appendDecimal(Int64(value))
        } else if value.isFinite {
            bytes.append(contentsOf: String(value).utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    /// The decimal digits of `value`, written straight into the buffer (large answers hold many numbers).
    private mutating func appendDecimal(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var n = value.magnitude
        var i = bytes.count
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: 48 + n % 10))
            n /= 10
        } while n > 0
        var j = bytes.count - 1
        while i < j {
            bytes.swapAt(i, j)
            i += 1
            j -= 1
        }
    }

    /// `"name": value` helpers.
    package mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    package mutating func field(_ name: String, _ value: Int64) { key(name); int(value) }
    package mutating func field(_ name: String, _ value: Int) { key(name); int(value) }
    package mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }
    package mutating func fieldIfPresent(_ name: String, _ value: String?) { if let value { field(name, value) } }
    package mutating func fieldIfPresent(_ name: String, _ value: Int64?) { if let value { field(name, value) } }
    package mutating func fieldIfPresent(_ name: String, _ value: Int?) { if let value { field(name, value) } }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ utf8: String.UTF8View) {
        bytes.append(UInt8(ascii: "\""))
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          Self.hex[Int(b >> 4)], Self.hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
