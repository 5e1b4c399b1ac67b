#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif


/// X-Ray's identifiers and the tracing header, validated as the X-Ray documentation states them
/// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).
package enum TraceIdentifiers {
    /// `1-` + 8 hex digits (epoch seconds of the original request) + `-` + 24 hex digits, lower case (what every
    /// SDK emits; upper case is undocumented and rejected consistently).
    package static func isValidTraceID(_ id: String) -> Bool { epochSeconds(ofTraceID: id) != nil }

    /// The epoch seconds a valid trace id carries (nil for an invalid one).
    package static func epochSeconds(ofTraceID id: String) -> Int64? {
        bytes(of: id) { b -> Int64? in
            guard b.count == 35, b[0] == UInt8(ascii: "1"), b[1] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "-"),
                  b[11...].allSatisfy(isLowerHex) else { return nil }
            var seconds: Int64 = 0
            for c in b[2..<10] {
                guard isLowerHex(c) else { return nil }
                seconds = seconds * 16 + Int64(hexValue(c))
            }
            return seconds
        }
    }

    /// A valid trace id in 16 bytes: the 8 hex digits of its time, then the 24 of its random part, as bytes (nil for an
    /// invalid id). `traceID(packed:)` gives the id back.
    package static func packed(traceID id: String) -> [UInt8]? { TraceKey(id)?.packed }

    /// The 32 hex digits of a valid trace id (at 2..<10 and 11..<35) as two words, its time's 8 digits first (nil for
    /// an invalid id).
    fileprivate static func words(ofTraceID id: String) -> (high: UInt64, low: UInt64)? {
        bytes(of: id) { b -> (high: UInt64, low: UInt64)? in
            guard b.count == 35, b[0] == UInt8(ascii: "1"), b[1] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "-") else { return nil }
            var high: UInt64 = 0, low: UInt64 = 0
            for j in 2..<35 where j != 10 {
                let c = b[j]
                guard isLowerHex(c) else { return nil }
                if j < 19 { high = high << 4 | UInt64(hexValue(c)) } else { low = low << 4 | UInt64(hexValue(c)) }
            }
            return (high, low)
        }
    }

    /// The trace id that `packed(traceID:)` made 16 bytes of.
    package static func traceID(packed: some Collection<UInt8>) -> String? {
        guard packed.count == 16 else { return nil }
        var out: [UInt8] = Array("1-".utf8)
        out.reserveCapacity(35)
        for (i, byte) in packed.enumerated() {
            if i == 4 { out.append(UInt8(ascii: "-")) }
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A segment or subsegment id: 16 hex digits.
    package static func isValidSegmentID(_ id: String) -> Bool { segmentIDValue(id) != nil }

    /// The number a valid segment id's 16 hex digits spell (nil for an invalid id).
    package static func segmentIDValue(_ id: String) -> UInt64? {
        bytes(of: id) { segmentIDValue(UnsafeRawBufferPointer($0)) }
    }

    /// The number a valid segment id's 16 hex digits spell, from its UTF-8 bytes (nil for an invalid id).
    package static func segmentIDValue(_ b: UnsafeRawBufferPointer) -> UInt64? {
        guard b.count == 16, let base = b.baseAddress,
              let high = hexValue(ofWord: UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))),
              let low = hexValue(ofWord: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        else { return nil }
        return high << 32 | low
    }

    /// The number 8 lower-case hex digits spell, from a word holding them in memory order (the first in its lowest
    /// byte), or nil when any byte is not one: all eight bytes checked and converted at once (one byte at a time, the
    /// ids of a segment and its subsegments were 0.6% of the collector's time).
    @inline(__always) static func hexValue(ofWord w: UInt64) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        guard w & highs == 0 else { return nil }
        // With every byte below 0x80, adding k sets a byte's high bit exactly when the byte is 0x80 - k or more, and
        // carries into no other byte.
        func atLeast(_ k: UInt64) -> UInt64 { (w &+ ones &* (0x80 - k)) & highs }
        let digit = atLeast(0x30) & ~atLeast(0x3A), letter = atLeast(0x61) & ~atLeast(0x67)
        guard digit | letter == highs else { return nil }
        // Each byte's value (a letter's low four bits plus 9), then pairs, fours and eights of digits joined, the
        // first digit the most significant.
        var v = (w & (ones &* 0x0F)) &+ (letter >> 7) &* 9
        v = (v & 0x000F_000F_000F_000F) << 4 | (v & 0x0F00_0F00_0F00_0F00) >> 8
        v = (v & 0x0000_00FF_0000_00FF) << 8 | (v & 0x00FF_0000_00FF_0000) >> 16
        return (v & 0x0000_0000_0000_FFFF) << 16 | (v & 0x0000_FFFF_0000_0000) >> 32
    }

    /// A string's UTF-8 bytes, in place when the string keeps them contiguously (native strings do; the utf8 view
    /// iterated element by element cost more than the checks themselves).
    @inline(__always) private static func bytes<T>(of s: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if let result = s.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(s.utf8).withUnsafeBufferPointer(body)
    }

    /// Names: 1 to 200 characters; Unicode letters, numbers, whitespace and `_ . : / % & # = + \ - @`.
    package static func isValidName(_ name: String) -> Bool {
        // Most names are short ASCII: checked byte by byte, without Unicode properties.
        if bytes(of: name, { b in b.count >= 1 && b.count <= 200 && b.allSatisfy { $0 < 0x80 && asciiNameBytes[Int($0)] } }) {
            return true
        }
        let count = name.count
        guard count >= 1, count <= 200 else { return false }
        return name.unicodeScalars.allSatisfy(isNameScalar)
    }

    private static func isNameScalar(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || s.properties.numericType != nil || s.properties.isWhitespace || nameSymbols.contains(s)
    }

    private static let nameSymbols: Set<Unicode.Scalar> = ["_", ".", ":", "/", "%", "&", "#", "=", "+", "\\", "-", "@"]

    /// The ASCII bytes a name may hold: letters, digits, whitespace (as `Unicode.Scalar.Properties.isWhitespace`
    /// has them) and the symbols above.
    private static let asciiNameBytes: [Bool] = (0..<128).map { isNameScalar(Unicode.Scalar(UInt8($0))) }

    /// Annotation keys usable in filter expressions: ASCII letters, digits and underscore.
    package static func isValidAnnotationKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 500 && key.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F
        }
    }

    /// Parses an `X-Amzn-Trace-Id` header (`Root=…;Parent=…;Sampled=1`, any order, `Lineage` and other keys kept
    /// but meaningless here). Keys are as written; surrounding spaces are trimmed.
    package static func parseTracingHeader(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in value.split(separator: ";") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let key = part[..<eq].trimmingSpaces, val = part[part.index(after: eq)...].trimmingSpaces
            if !key.isEmpty { out[key] = val }
        }
        return out
    }

    /// Finds X-Ray trace ids inside a log message (REPORT's `XRAY TraceId: …`, Powertools' `xray_trace_id`,
    /// `Root=…` of a logged header): each `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx` not embedded in a longer hex run.
    package static func traceIDs(in bytes: UnsafeRawBufferPointer) -> [String] {
        var found: [String] = []
        forEachTraceID(in: bytes, messageOffsets: [0, bytes.count]) { _, id in
            if !found.contains(id) { found.append(id) }
        }
        return found
    }

    /// The trace ids of messages laid end to end in `bytes` (message `i` is `offsets[i]..<offsets[i + 1]`), found in
    /// one pass over all of them: `body` gets each message index (ascending) and id. Most log lines name no trace,
    /// so the pass is one byte search for the "1-" anchor; the shape is checked within the message that holds it.
    package static func forEachTraceID(in bytes: UnsafeRawBufferPointer, messageOffsets offsets: [Int],
                                       _ body: (_ message: Int, _ id: String) -> Void) {
        let n = bytes.count
        guard n >= 35, offsets.count >= 2 else { return }
        var i = offsets[0]
        var message = 0
        while i + 35 <= n, let hit = ByteSearch.firstIndex(UnsafeRawBufferPointer(rebasing: bytes[i..<n]), anchor) {
            let at = i + hit
            guard at + 35 <= n else { break }
            while message + 2 < offsets.count, offsets[message + 1] <= at { message += 1 }
            let lo = offsets[message], hi = offsets[message + 1]
            if at + 35 <= hi, bytes[at + 10] == UInt8(ascii: "-"), at == lo || !isIDByte(bytes[at - 1]),
               at + 35 == hi || !isIDByte(bytes[at + 35]),
               (at + 2..<at + 10).allSatisfy({ isLowerHex(bytes[$0]) }), (at + 11..<at + 35).allSatisfy({ isLowerHex(bytes[$0]) }) {
                body(message, String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 35)]), as: UTF8.self))
                i = at + 35
            } else {
                i = at + 1
            }
        }
    }

    private static let anchor: [UInt8] = Array("1-".utf8)

    @inline(__always) static func isLowerHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }
    @inline(__always) private static func isIDByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D
    }
    @inline(__always) private static func hexValue(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
    /// The lower-case hexadecimal digit (UTF-8) of a value below 16: the inverse of `hexValue`.
    @inline(__always) static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// The X-Ray daemon's UDP datagram: a JSON header line (`{"format":"json","version":1}`), `\n`, one segment document.
/// The header is parsed as the daemon parses it: JSON, `format` equal to "json" ignoring case, `version` 1.
package enum DaemonDatagram {
    package enum Rejection: Error, Equatable, Sendable {
        case missingHeaderOrSegment
        case invalidHeader
    }

    static let sdkHeaders: [StaticString] = [#"{"format":"json","version":1}"#, #"{"format": "json", "version": 1}"#]

    /// The document part of a datagram, or why the daemon would drop it.
    package static func document(_ datagram: UnsafeRawBufferPointer) -> Result<UnsafeRawBufferPointer, Rejection> {
        guard let nl = datagram.firstIndex(of: UInt8(ascii: "\n")) else { return .failure(.missingHeaderOrSegment) }
        let header = UnsafeRawBufferPointer(rebasing: datagram[..<nl])
        var body = UnsafeRawBufferPointer(rebasing: datagram[(nl + 1)...])
        while let last = body.last, last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 {
            body = UnsafeRawBufferPointer(rebasing: body[..<(body.count - 1)])
        }
        guard !body.isEmpty else { return .failure(.missingHeaderOrSegment) }
        // The headers the SDKs send (Python's compact; Java's, Node's and Go's spaced), byte for byte, need no parsing.
        for known in sdkHeaders
        where known.utf8CodeUnitCount == header.count && memcmp(known.utf8Start, header.baseAddress!, header.count) == 0 {
            return .success(body)
        }
        guard let value = try? JSONValue.parse(header),
              value["format"]?.string?.lowercased() == "json", value["version"]?.number == 1
        else { return .failure(.invalidHeader) }
        return .success(body)
    }
}

/// A valid trace id as a key: its 128 bits in two words (the time's 8 hex digits first), hashed and compared as such
/// instead of as 35 characters, and ordered as its packed bytes are (as SQLite orders them).
package struct TraceKey: Hashable, Comparable, Sendable {
    package let high: UInt64
    package let low: UInt64

    /// Nil for an invalid trace id.
    package init?(_ traceID: String) {
        guard let (high, low) = TraceIdentifiers.words(ofTraceID: traceID) else { return nil }
        self.high = high
        self.low = low
    }

    package static func < (a: TraceKey, b: TraceKey) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// The time in the id, in epoch seconds (its first 8 hex digits, the high word's upper half).
    package var epochSeconds: Int64 { Int64(high >> 32) }

    /// The 16 bytes ``TraceIdentifiers/packed(traceID:)`` gives: both words big-endian.
    package var packed: [UInt8] {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
    }
}
