/// LEB128 variable-length integers, with zig-zag encoding for signed values.
package enum Varint {
    package static func put(_ value: UInt64, into out: inout [UInt8]) {
        forEachByte(of: value) { out.append($0) }
    }

    package static func putSigned(_ value: Int64, into out: inout [UInt8]) {
        put(zigZag(value), into: &out)
    }

    /// The bytes of `value`'s varint, low seven bits first (each but the last with its high bit set), to whatever
    /// writes them: an array here, the trace facts encoder's buffer by pointer.
    @inline(__always)
    package static func forEachByte(of value: UInt64, _ body: (UInt8) -> Void) {
        var v = value
        while v >= 0x80 {
            body(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        body(UInt8(v))
    }

    /// A signed value as the unsigned one its varint is written as (0, -1, 1, -2… as 0, 1, 2, 3…).
    @inline(__always)
    package static func zigZag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    /// Reads varints from the front of a byte array.
    package struct Reader {
        private let bytes: [UInt8]
        package private(set) var position = 0

        package init(_ bytes: [UInt8]) { self.bytes = bytes }

        package mutating func next() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count {
                let b = bytes[position]
                position += 1
                guard shift < 64 else { return nil }
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
            return nil
        }

        package mutating func nextSigned() -> Int64? {
            guard let u = next() else { return nil }
            return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }

        package var atEnd: Bool { position == bytes.count }

        package mutating func nextByte() -> UInt8? {
            guard position < bytes.count else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        package mutating func nextBytes(_ n: Int) -> ArraySlice<UInt8>? {
            guard n >= 0, n <= bytes.count - position else { return nil }
            defer { position += n }
            return bytes[position..<(position + n)]
        }

        /// A little-endian IEEE 754 double (8 bytes, not a varint).
        package mutating func nextDouble() -> Double? {
            guard let b = nextBytes(8) else { return nil }
            var bits: UInt64 = 0
            for (k, byte) in b.enumerated() { bits |= UInt64(byte) << UInt64(k * 8) }
            return Double(bitPattern: bits)
        }
    }

    /// A little-endian IEEE 754 double (8 bytes).
    package static func putDouble(_ v: Double, into out: inout [UInt8]) {
        let bits = v.bitPattern
        for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(s))) }
    }
}
