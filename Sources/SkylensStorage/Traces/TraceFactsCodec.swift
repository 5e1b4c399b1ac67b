import SkylensCore

/// The binary form of ``TraceFacts`` kept in `trace.facts` (specified in `Sources/SkylensStorage/README.md`):
/// version byte 1, a table of the trace's services (name, type), then the fields in a fixed order. Integers are
/// LEB128 varints (zig-zag when signed), doubles 8 little-endian bytes, strings a length and UTF-8 bytes, optional
/// values a presence byte first, lists a count first, services an index into the table.
package enum TraceFactsCodec {
    static let version: UInt8 = 1

    package static func encode(_ f: TraceFacts) -> [UInt8] {
        // The fields are written first, each service as its number in a table made as they are met (a handful of
        // services: searched, not hashed); the table then goes before them. (A separate pass to collect the table
        // first compared and copied every service reference twice.)
        var table: [ServiceID] = []
        table.reserveCapacity(f.services.count + 4)
        func index(_ id: ServiceID) -> Int {
            if let i = table.firstIndex(of: id) { return i }
            table.append(id)
            return table.count - 1
        }
        var w = Output(capacity: 640)
        w.string(f.id)
        w.double(f.startTime)
        w.double(f.endTime)
        w.double(f.duration)
        w.present(f.responseTime != nil)
        if let r = f.responseTime { w.double(r) }
        w.present(f.http != nil)
        if let h = f.http {
            w.optionalString(h.method)
            w.optionalString(h.url)
            w.optionalString(h.userAgent)
            w.optionalString(h.clientIP)
            w.present(h.status != nil)
            if let status = h.status { w.count(status) }
            w.bool(h.traced)
        }
        w.bool(f.hasError)
        w.bool(f.hasFault)
        w.bool(f.hasThrottle)
        w.bool(f.isPartial)
        w.count(f.users.count)
        for u in f.users { w.string(u) }
        w.count(f.annotations.count)
        for a in f.annotations {
            w.string(a.key)
            switch a.value {
            case .string(let s): w.byte(0); w.string(s)
            case .number(let n): w.byte(1); w.double(n)
            case .bool(let b): w.byte(2); w.bool(b)
            }
            w.count(a.services.count)
            for s in a.services { w.count(index(s)) }
        }
        w.count(f.services.count)
        for s in f.services {
            w.count(index(s.id))
            w.bool(s.root); w.bool(s.inferred); w.bool(s.error); w.bool(s.fault); w.bool(s.throttle)
            w.double(s.responseTime)
        }
        w.count(f.edges.count)
        for e in f.edges {
            w.count(index(e.source)); w.count(index(e.destination))
            w.bool(e.error); w.bool(e.fault); w.bool(e.throttle); w.bool(e.async)
            w.double(e.responseTime)
        }
        w.present(f.entryPoint != nil)
        if let e = f.entryPoint { w.count(index(e)) }
        func write(_ causes: [RootCause]) {
            w.count(causes.count)
            for c in causes {
                w.bool(c.clientImpacting)
                w.count(c.services.count)
                for s in c.services {
                    w.count(index(s.id))
                    w.bool(s.inferred)
                    w.count(s.entityPath.count)
                    for e in s.entityPath {
                        w.string(e.name)
                        w.bool(e.remote)
                        w.present(e.coverage != nil)
                        if let c = e.coverage { w.double(c) }
                        w.count(e.exceptions.count)
                        for x in e.exceptions {
                            w.string(x.id)
                            w.optionalString(x.type)
                            w.optionalString(x.message)
                            w.bool(x.remote)
                        }
                    }
                }
            }
        }
        // (Each list written in turn: an array of the four cost an allocation and four retains a trace.)
        write(f.faultRootCauses)
        write(f.errorRootCauses)
        write(f.throttleRootCauses)
        write(f.responseTimeRootCauses)
        w.count(f.linkedTraceIDs.count)
        for id in f.linkedTraceIDs { w.string(id) }
        w.count(f.segmentCount)
        w.count(f.graph.count)
        for s in f.graph {
            w.signed(s.minute)
            w.present(s.source != nil)
            if let source = s.source { w.count(index(source)) }
            w.count(index(s.destination))
            let outcome: UInt8 = switch s.outcome { case .ok: 0; case .error: 1; case .throttle: 2; case .fault: 3 }
            w.byte(outcome)
            w.signed(s.responseTimeMillis)
        }
        var head = Output(capacity: 1 + table.count * 32)
        head.byte(version)
        head.count(table.count)
        for s in table {
            head.string(s.name)
            head.string(s.type)
        }
        return head.withBytes { h in
            w.withBytes { body in
                [UInt8](unsafeUninitializedCapacity: h.count + body.count) { out, initialized in
                    let all = UnsafeMutableRawBufferPointer(out)
                    all.copyMemory(from: h)
                    UnsafeMutableRawBufferPointer(rebasing: all[h.count...]).copyMemory(from: body)
                    initialized = h.count + body.count
                }
            }
        }
    }

    /// The encoder's output: bytes stored through a pointer into memory it owns and frees (an array's append checked
    /// its uniqueness and capacity for every field, which was most of an encoding's time), handed over as an array
    /// or a buffer once written. Not copyable: one owner writes it in place (a class written through closures cost a
    /// retain and an exclusivity check per field).
    struct Output: ~Copyable {
        private var base: UnsafeMutableRawPointer
        private var capacity: Int
        /// Bytes written so far.
        private(set) var length = 0

        init(capacity: Int = 256) {
            self.capacity = max(capacity, 16)
            base = .allocate(byteCount: self.capacity, alignment: 8)
        }

        deinit { base.deallocate() }

        /// The bytes written.
        var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: length)) }

        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try body(UnsafeRawBufferPointer(start: base, count: length))
        }

        @inline(__always) private mutating func reserve(_ n: Int) {
            if length + n > capacity { grow(to: length + n) }
        }

        private mutating func grow(to needed: Int) {
            var c = capacity * 2
            while c < needed { c *= 2 }
            let larger = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 8)
            larger.copyMemory(from: base, byteCount: length)
            base.deallocate()
            base = larger
            capacity = c
        }

        mutating func byte(_ b: UInt8) {
            reserve(1)
            base.storeBytes(of: b, toByteOffset: length, as: UInt8.self)
            length += 1
        }

        mutating func raw(_ bytes: UnsafeRawBufferPointer) {
            guard let source = bytes.baseAddress, bytes.count > 0 else { return }
            reserve(bytes.count)
            (base + length).copyMemory(from: source, byteCount: bytes.count)
            length += bytes.count
        }

        /// A LEB128 varint (``Varint``'s bytes).
        mutating func count(_ n: Int) { unsigned(UInt64(n)) }
        /// A zig-zag varint.
        mutating func signed(_ n: Int64) { unsigned(Varint.zigZag(n)) }

        /// An unsigned LEB128 varint.
        mutating func unsigned(_ value: UInt64) {
            reserve(10)
            let base = self.base
            var length = self.length
            Varint.forEachByte(of: value) { b in
                base.storeBytes(of: b, toByteOffset: length, as: UInt8.self)
                length += 1
            }
            self.length = length
        }

        mutating func bool(_ b: Bool) { byte(b ? 1 : 0) }
        /// An optional value's presence byte.
        mutating func present(_ p: Bool) { byte(p ? 1 : 0) }

        mutating func double(_ d: Double) {
            reserve(8)
            base.storeBytes(of: d.bitPattern.littleEndian, toByteOffset: length, as: UInt64.self)
            length += 8
        }

        mutating func string(_ s: String) {
            // In place for a native string (`withUTF8` on a copy retained it); through a contiguous copy otherwise.
            if s.utf8.withContiguousStorageIfAvailable({ (u: UnsafeBufferPointer<UInt8>) -> Void in
                count(u.count)
                raw(UnsafeRawBufferPointer(u))
            }) != nil { return }
            var s = s
            s.withUTF8 { u in
                count(u.count)
                raw(UnsafeRawBufferPointer(u))
            }
        }

        mutating func optionalString(_ s: String?) {
            present(s != nil)
            if let s { string(s) }
        }
    }

    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(StorageError) -> TraceFacts {
        let r = Reader(bytes: bytes)
        guard try r.byte() == version else { throw StorageError(.corrupt, "unknown trace facts version") }
        let table = try r.list { () throws(StorageError) in ServiceID(name: try r.string(), type: try r.string()) }
        func service() throws(StorageError) -> ServiceID {
            let i = try r.count()
            guard i < table.count else { throw StorageError(.corrupt, "trace facts: service index out of range") }
            return table[i]
        }
        var f = TraceFacts(id: try r.string())
        f.startTime = try r.double()
        f.endTime = try r.double()
        f.duration = try r.double()
        f.responseTime = try r.optional { () throws(StorageError) in try r.double() }
        f.http = try r.optional { () throws(StorageError) in
            var h = SegmentHTTP()
            h.method = try r.optional { () throws(StorageError) in try r.string() }
            h.url = try r.optional { () throws(StorageError) in try r.string() }
            h.userAgent = try r.optional { () throws(StorageError) in try r.string() }
            h.clientIP = try r.optional { () throws(StorageError) in try r.string() }
            h.status = try r.optional { () throws(StorageError) in try r.count() }
            h.traced = try r.bool()
            return h
        }
        f.hasError = try r.bool()
        f.hasFault = try r.bool()
        f.hasThrottle = try r.bool()
        f.isPartial = try r.bool()
        f.users = try r.list { () throws(StorageError) in try r.string() }
        f.annotations = try r.list { () throws(StorageError) in
            let key = try r.string()
            let value: AnnotationValue = switch try r.byte() {
            case 0: .string(try r.string())
            case 1: .number(try r.double())
            case 2: .bool(try r.bool())
            default: throw StorageError(.corrupt, "trace facts: unknown annotation type")
            }
            return TraceAnnotation(key: key, value: value, services: try r.list(service))
        }
        f.services = try r.list { () throws(StorageError) in
            let id = try service()
            let root = try r.bool(), inferred = try r.bool(), error = try r.bool(), fault = try r.bool(), throttle = try r.bool()
            return ServiceFacts(id: id, root: root, inferred: inferred, error: error, fault: fault, throttle: throttle,
                                responseTime: try r.double())
        }
        f.edges = try r.list { () throws(StorageError) in
            let source = try service(), destination = try service()
            let error = try r.bool(), fault = try r.bool(), throttle = try r.bool(), async = try r.bool()
            return EdgeFacts(source: source, destination: destination, error: error, fault: fault, throttle: throttle,
                             responseTime: try r.double(), async: async)
        }
        f.entryPoint = try r.optional(service)
        var causes: [[RootCause]] = []
        for _ in 0..<4 {
            causes.append(try r.list { () throws(StorageError) in
                let clientImpacting = try r.bool()
                let services = try r.list { () throws(StorageError) in
                    let id = try service()
                    let inferred = try r.bool()
                    let path = try r.list { () throws(StorageError) in
                        let name = try r.string()
                        let remote = try r.bool()
                        let coverage = try r.optional { () throws(StorageError) in try r.double() }
                        let exceptions = try r.list { () throws(StorageError) in
                            let id = try r.string()
                            let type = try r.optional { () throws(StorageError) in try r.string() }
                            let message = try r.optional { () throws(StorageError) in try r.string() }
                            return SegmentException(id: id, type: type, message: message, remote: try r.bool())
                        }
                        return RootCause.Entity(name: name, exceptions: exceptions, remote: remote, coverage: coverage)
                    }
                    return RootCause.Service(id: id, inferred: inferred, entityPath: path)
                }
                return RootCause(services: services, clientImpacting: clientImpacting)
            })
        }
        f.faultRootCauses = causes[0]
        f.errorRootCauses = causes[1]
        f.throttleRootCauses = causes[2]
        f.responseTimeRootCauses = causes[3]
        f.linkedTraceIDs = try r.list { () throws(StorageError) in try r.string() }
        f.segmentCount = try r.count()
        f.graph = try r.list { () throws(StorageError) in
            let minute = try r.signed()
            let source = try r.optional(service)
            let destination = try service()
            let outcome: Outcome = switch try r.byte() {
            case 0: .ok
            case 1: .error
            case 2: .throttle
            case 3: .fault
            default: throw StorageError(.corrupt, "trace facts: unknown outcome")
            }
            return GraphSample(minute: minute, source: source, destination: destination, outcome: outcome,
                               responseTimeMillis: try r.signed())
        }
        guard r.position == bytes.count else { throw StorageError(.corrupt, "trace facts: trailing bytes") }
        return f
    }

    /// A class, so that the closures of `list` and `optional` can read through it too.
    final class Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        private func corrupt() -> StorageError { StorageError(.corrupt, "trace facts truncated") }

        func byte() throws(StorageError) -> UInt8 {
            guard position < bytes.count else { throw corrupt() }
            defer { position += 1 }
            return bytes[position]
        }

        func varint() throws(StorageError) -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw corrupt() }
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }

        func count() throws(StorageError) -> Int {
            let v = try varint()
            guard v <= UInt64(bytes.count) * 8 + 1_000_000 else { throw corrupt() }
            return Int(v)
        }

        func signed() throws(StorageError) -> Int64 {
            let u = try varint()
            return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }

        func bool() throws(StorageError) -> Bool { try byte() != 0 }

        func double() throws(StorageError) -> Double {
            guard position + 8 <= bytes.count else { throw corrupt() }
            var bits: UInt64 = 0
            withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + 8)])) }
            position += 8
            return Double(bitPattern: UInt64(littleEndian: bits))
        }

        func string() throws(StorageError) -> String {
            let n = try count()
            guard position + n <= bytes.count else { throw corrupt() }
            defer { position += n }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
        }

        func optional<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T? {
            try byte() == 0 ? nil : try body()
        }

        func list<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> [T] {
            let n = try count()
            var out: [T] = []
            out.reserveCapacity(min(n, 1024))
            for _ in 0..<n { out.append(try body()) }
            return out
        }
    }
}
