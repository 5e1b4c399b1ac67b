/// LEB128 variable-length integers, with zig-zag encoding for signed values.
package enum Varint {
    package static func put(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    package static func putSigned(_ value: Int64, into out: inout [UInt8]) {
        put(UInt64(bitPattern: (value << 1) ^ (value >> 63)), into: &out)
    }

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
    }
}
