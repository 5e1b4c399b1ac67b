/// CBOR (RFC 8949) as smithy-rpc-v2-cbor uses it: maps with text keys, arrays, text and byte strings, integers,
/// floats (half, single, double), booleans, null/undefined, and tag 1 (epoch-seconds timestamps). Definite and
/// indefinite lengths are read; definite lengths are written.
package enum CBOR {
    package struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        package var offset: Int
        package var message: String
        package var description: String { "CBOR: \(message) at byte \(offset)" }
    }

    // MARK: decoding

    package static func decode(_ bytes: [UInt8]) throws(DecodingError) -> WireValue {
        var reader = Reader(bytes: bytes)
        let value = try reader.value(depth: 0)
        guard reader.i == bytes.count else { throw DecodingError(offset: reader.i, message: "unexpected data after the item") }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var i = 0

        func fail(_ message: String) -> DecodingError { DecodingError(offset: i, message: message) }

        mutating func byte() throws(DecodingError) -> UInt8 {
            guard i < bytes.count else { throw fail("unexpected end of input") }
            defer { i += 1 }
            return bytes[i]
        }

        mutating func uint(_ n: Int) throws(DecodingError) -> UInt64 {
            guard i + n <= bytes.count else { throw fail("unexpected end of input") }
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(bytes[i + k]) }
            i += n
            return v
        }

        /// The argument of an initial byte; nil for indefinite length (additional info 31).
        mutating func argument(_ info: UInt8) throws(DecodingError) -> UInt64? {
            switch info {
            case 0..<24: return UInt64(info)
            case 24: return try uint(1)
            case 25: return try uint(2)
            case 26: return try uint(4)
            case 27: return try uint(8)
            case 31: return nil
            default: throw fail("reserved additional information \(info)")
            }
        }

        mutating func length(_ info: UInt8) throws(DecodingError) -> Int? {
            guard let n = try argument(info) else { return nil }
            guard n <= UInt64(bytes.count - i) else { throw fail("length \(n) exceeds the input") }
            return Int(n)
        }

        mutating func value(depth: Int) throws(DecodingError) -> WireValue {
            guard depth < 128 else { throw fail("nesting too deep") }
            let initial = try byte()
            let major = initial >> 5, info = initial & 0x1F
            switch major {
            case 0:
                guard let n = try argument(info), n <= UInt64(Int64.max) else { throw fail("integer out of range") }
                return .int(Int64(n))
            case 1:
                guard let n = try argument(info), n <= UInt64(Int64.max) else { throw fail("integer out of range") }
                return .int(-1 - Int64(n))
            case 2:
                return .bytes(try chunks(info, major: 2))
            case 3:
                return .string(String(decoding: try chunks(info, major: 3), as: UTF8.self))
            case 4:
                var items: [WireValue] = []
                if let n = try length(info) {
                    for _ in 0..<n { items.append(try value(depth: depth + 1)) }
                } else {
                    while try peekBreak() == false { items.append(try value(depth: depth + 1)) }
                }
                return .array(items)
            case 5:
                var members: [(String, WireValue)] = []
                func member(_ r: inout Reader) throws(DecodingError) {
                    guard case .string(let key) = try r.value(depth: depth + 1) else { throw r.fail("map keys must be text strings") }
                    members.append((key, try r.value(depth: depth + 1)))
                }
                if let n = try length(info) {
                    for _ in 0..<n { try member(&self) }
                } else {
                    while try peekBreak() == false { try member(&self) }
                }
                return .map(members)
            case 6:
                guard let tag = try argument(info) else { throw fail("indefinite tag") }
                let inner = try value(depth: depth + 1)
                if tag == 1, let seconds = inner.number { return .timestamp(seconds) }
                return inner
            default:
                switch info {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22, 23: return .null
                case 25: return .double(Double(Float16(bitPattern: UInt16(try uint(2)))))
                case 26: return .double(Double(Float(bitPattern: UInt32(try uint(4)))))
                case 27: return .double(Double(bitPattern: try uint(8)))
                default: throw fail("unsupported simple value \(info)")
                }
            }
        }

        /// Consumes a break byte (0xFF) if it comes next.
        mutating func peekBreak() throws(DecodingError) -> Bool {
            guard i < bytes.count else { throw fail("missing break in an indefinite-length item") }
            if bytes[i] == 0xFF { i += 1; return true }
            return false
        }

        mutating func chunks(_ info: UInt8, major: UInt8) throws(DecodingError) -> [UInt8] {
            if let n = try length(info) {
                guard i + n <= bytes.count else { throw fail("string runs past the input") }
                defer { i += n }
                return Array(bytes[i..<i + n])
            }
            var out: [UInt8] = []
            while try peekBreak() == false {
                let b = try byte()
                guard b >> 5 == major, let n = try length(b & 0x1F) else { throw fail("bad chunk in an indefinite string") }
                guard i + n <= bytes.count else { throw fail("string runs past the input") }
                out += bytes[i..<i + n]
                i += n
            }
            return out
        }
    }

    // MARK: encoding

    package static func encode(_ value: WireValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    static func head(_ major: UInt8, _ n: UInt64, into out: inout [UInt8]) {
        let m = major << 5
        switch n {
        case 0..<24: out.append(m | UInt8(n))
        case 24..<0x100: out += [m | 24, UInt8(n)]
        case 0x100..<0x10000: out += [m | 25, UInt8(n >> 8), UInt8(n & 0xFF)]
        case 0x10000..<0x1_0000_0000: out.append(m | 26); for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> UInt64(s))) }
        default: out.append(m | 27); for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> UInt64(s))) }
        }
    }

    static func write(_ value: WireValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xF6)
        case .bool(let b): out.append(b ? 0xF5 : 0xF4)
        case .int(let v): v >= 0 ? head(0, UInt64(v), into: &out) : head(1, UInt64(-1 - v), into: &out)
        case .double(let d):
            out.append(0xFB)
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: d.bitPattern >> UInt64(s))) }
        case .string(let s), .text(let s):
            let utf8 = Array(s.utf8)
            head(3, UInt64(utf8.count), into: &out)
            out += utf8
        case .bytes(let b):
            head(2, UInt64(b.count), into: &out)
            out += b
        case .array(let a):
            head(4, UInt64(a.count), into: &out)
            for v in a { write(v, into: &out) }
        case .map(let members):
            head(5, UInt64(members.count), into: &out)
            for (k, v) in members {
                write(.string(k), into: &out)
                write(v, into: &out)
            }
        case .timestamp(let t):
            out.append(0xC1)
            write(.double(t), into: &out)
        }
    }
}
