/// An annotation value: X-Ray indexes strings, numbers and booleans.
package enum AnnotationValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)

    /// The value from a document member, or nil for objects, arrays and null (which X-Ray does not index).
    package init?(_ json: JSONValue) {
        switch json {
        case .string(let s): self = .string(s)
        case .number(let n): self = .number(n)
        case .bool(let b): self = .bool(b)
        default: return nil
        }
    }

    /// A text form that keeps the type (the storage index key).
    package var indexKey: String {
        switch self {
        case .string(let s): "s:" + s
        case .number(let n): "n:" + (n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n))
        case .bool(let b): b ? "b:true" : "b:false"
        }
    }
}

/// The `http` block of a segment or subsegment.
package struct SegmentHTTP: Sendable, Equatable {
    package var method: String?
    package var url: String?
    package var userAgent: String?
    package var clientIP: String?
    package var status: Int?
    /// `http.request.traced` (subsegments): the downstream service sends its own segment.
    package var traced = false

    package init(method: String? = nil, url: String? = nil, userAgent: String? = nil, clientIP: String? = nil, status: Int? = nil) {
        self.method = method
        self.url = url
        self.userAgent = userAgent
        self.clientIP = clientIP
        self.status = status
    }

    package var isEmpty: Bool { method == nil && url == nil && userAgent == nil && clientIP == nil && status == nil }
}

/// An exception recorded in a `cause` object.
package struct SegmentException: Sendable, Equatable {
    package var id: String
    package var type: String?
    package var message: String?
    package var remote: Bool

    package init(id: String, type: String?, message: String?, remote: Bool) {
        self.id = id
        self.type = type
        self.message = message
        self.remote = remote
    }
}

/// A span link (`links`): this (sub)segment continues work started by another, e.g. an SQS message's producer.
package struct SegmentLink: Sendable, Equatable {
    package var traceID: String
    package var id: String
}

/// A (sub)segment id as a number: the value of its 16 hexadecimal digits. Parsing refuses any other id, and inferred
/// segments get ids of that form, so two segments' keys are equal exactly when their ids are, and a segment keeps
/// only its key (its id is the key's ``hex``). (A string of another form, such as an unchecked link target, gets a
/// hash that no valid id is likely to equal; lookups of it find nothing.)
package struct SegmentKey: Hashable, Sendable {
    package let value: UInt64

    package init(_ id: String) {
        value = TraceIdentifiers.segmentIDValue(id) ?? Self.hash(id)
    }

    package init(value: UInt64) {
        self.value = value
    }

    /// The key of a valid id's UTF-8 bytes (16 lower-case hexadecimal digits); nil for any other bytes.
    package init?(validID bytes: UnsafeRawBufferPointer) {
        guard let v = TraceIdentifiers.segmentIDValue(bytes) else { return nil }
        value = v
    }

    /// The id this key was read from (for a key of a valid id): 16 lower-case hexadecimal digits.
    package var hex: String {
        String(unsafeUninitializedCapacity: 16) { out in
            var i = 0
            forEachHexDigit { digit in
                out[i] = digit
                i += 1
            }
            return 16
        }
    }

    /// Appends the 16 hexadecimal digits of ``hex`` to `out`, as UTF-8 (in one append, without making the string).
    package func appendHex(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { digits in
            var i = 0
            forEachHexDigit { digit in
                digits[i] = digit
                i += 1
            }
            out.append(contentsOf: digits)
        }
    }

    /// Each of the 16 hexadecimal digits of ``hex`` in turn, as UTF-8 (without making the string).
    @inline(__always) package func forEachHexDigit(_ body: (UInt8) -> Void) {
        for i in 0..<16 { body(TraceIdentifiers.hexDigit(UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * i)) & 0xF)) }
    }

    private static func hash(_ s: String) -> UInt64 {
        var h = FNV1a()
        for b in s.utf8 { h.add(b) }
        return h.value
    }
}

/// The 64-bit FNV-1a hash of bytes added in turn (a key for text that is not an id; inferred segments' ids).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
}

/// A segment or subsegment document, validated and reduced to what trace assembly, summaries, the service graph
/// and filter expressions use. The document text itself is kept by the store and returned as sent.
///
/// Its members live in one shared, copy-on-write object: assembly copies segments often (into adjusted traces,
/// while walking trees), and a copy then costs one reference count instead of one per member.
package struct Segment: Sendable, Equatable {
    private var storage: Storage

    /// The members. Shared between copies and changed only through a uniquely referenced instance (see
    /// `mutable`), so unsynchronised sharing across tasks is safe.
    private final class Storage: @unchecked Sendable {
        let key: SegmentKey
        let traceID: String
        var parentKey: SegmentKey?
        var name: String
        var startTime: Double
        var endTime: Double?
        var inProgress: Bool
        var isSubsegment: Bool
        var error: Bool
        var fault: Bool
        var throttle: Bool
        var inferred = false
        var subsegments: [Segment]
        let namespace: String?
        let origin: String?
        var http: SegmentHTTP
        let annotations: [(key: String, value: AnnotationValue)]
        let user: String?
        let awsOperation: String?
        let resourceARN: String?
        let exceptions: [SegmentException]
        let links: [SegmentLink]

        init(key: SegmentKey, traceID: String, parentKey: SegmentKey?, name: String, startTime: Double, endTime: Double?, inProgress: Bool,
             isSubsegment: Bool, namespace: String?, origin: String?, http: SegmentHTTP, error: Bool, fault: Bool, throttle: Bool,
             annotations: [(key: String, value: AnnotationValue)], user: String?, awsOperation: String?, resourceARN: String?,
             exceptions: [SegmentException], links: [SegmentLink], subsegments: [Segment]) {
            self.key = key
            self.traceID = traceID
            self.parentKey = parentKey
            self.name = name
            self.startTime = startTime
            self.endTime = endTime
            self.inProgress = inProgress
            self.isSubsegment = isSubsegment
            self.namespace = namespace
            self.origin = origin
            self.http = http
            self.error = error
            self.fault = fault
            self.throttle = throttle
            self.annotations = annotations
            self.user = user
            self.awsOperation = awsOperation
            self.resourceARN = resourceARN
            self.exceptions = exceptions
            self.links = links
            self.subsegments = subsegments
        }

        /// A copy of `other`.
        init(copying other: Storage) {
            key = other.key
            traceID = other.traceID
            parentKey = other.parentKey
            name = other.name
            startTime = other.startTime
            endTime = other.endTime
            inProgress = other.inProgress
            isSubsegment = other.isSubsegment
            error = other.error
            fault = other.fault
            throttle = other.throttle
            inferred = other.inferred
            subsegments = other.subsegments
            namespace = other.namespace
            origin = other.origin
            http = other.http
            annotations = other.annotations
            user = other.user
            awsOperation = other.awsOperation
            resourceARN = other.resourceARN
            exceptions = other.exceptions
            links = other.links
        }
    }

    /// The members, copied first if another segment shares them.
    private var mutable: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
            return storage
        }
    }

    package init(key: SegmentKey, traceID: String, parentKey: SegmentKey?, name: String, startTime: Double, endTime: Double?, inProgress: Bool,
                 isSubsegment: Bool, namespace: String?, origin: String?, http: SegmentHTTP, error: Bool, fault: Bool, throttle: Bool,
                 annotations: [(key: String, value: AnnotationValue)], user: String?, awsOperation: String?, resourceARN: String?,
                 exceptions: [SegmentException], links: [SegmentLink], subsegments: [Segment]) {
        storage = Storage(key: key, traceID: traceID, parentKey: parentKey, name: name, startTime: startTime, endTime: endTime,
                          inProgress: inProgress, isSubsegment: isSubsegment, namespace: namespace, origin: origin, http: http,
                          error: error, fault: fault, throttle: throttle, annotations: annotations, user: user,
                          awsOperation: awsOperation, resourceARN: resourceARN, exceptions: exceptions, links: links,
                          subsegments: subsegments)
    }

    /// The id (made from its key: a segment keeps ids as numbers).
    package var id: String { storage.key.hex }
    /// The id as a number, for comparing and looking up ids without touching strings.
    package var key: SegmentKey { storage.key }
    package var traceID: String { storage.traceID }
    package var parentID: String? { storage.parentKey?.hex }
    package var parentKey: SegmentKey? {
        get { storage.parentKey }
        set { mutable.parentKey = newValue }
    }
    package var name: String { storage.name }
    package var startTime: Double { storage.startTime }
    package var endTime: Double? { storage.endTime }
    package var inProgress: Bool { storage.inProgress }
    /// `type: "subsegment"` on a top-level document (an independently sent subsegment), or an embedded subsegment.
    package var isSubsegment: Bool {
        get { storage.isSubsegment }
        set { mutable.isSubsegment = newValue }
    }
    package var error: Bool { storage.error }
    package var fault: Bool { storage.fault }
    package var throttle: Bool { storage.throttle }
    /// Made by X-Ray (here: trace assembly) from a downstream call's subsegment.
    package var inferred: Bool {
        get { storage.inferred }
        set { mutable.inferred = newValue }
    }
    package var subsegments: [Segment] {
        get { storage.subsegments }
        _modify { yield &mutable.subsegments }
    }

    /// `aws` or `remote` for calls to downstream services.
    package var namespace: String? { storage.namespace }
    package var origin: String? { storage.origin }
    package var http: SegmentHTTP {
        get { storage.http }
        _modify { yield &mutable.http }
    }
    package var annotations: [(key: String, value: AnnotationValue)] { storage.annotations }
    package var user: String? { storage.user }
    package var awsOperation: String? { storage.awsOperation }
    package var resourceARN: String? { storage.resourceARN }
    package var exceptions: [SegmentException] { storage.exceptions }
    package var links: [SegmentLink] { storage.links }

    package static func == (a: Segment, b: Segment) -> Bool {
        if a.storage === b.storage { return true }
        return a.key == b.key && a.traceID == b.traceID && a.parentKey == b.parentKey && a.name == b.name && a.startTime == b.startTime
            && a.endTime == b.endTime && a.inProgress == b.inProgress && a.isSubsegment == b.isSubsegment
            && a.namespace == b.namespace && a.origin == b.origin && a.http == b.http && a.error == b.error && a.fault == b.fault
            && a.throttle == b.throttle && a.annotations.elementsEqual(b.annotations, by: { $0.key == $1.key && $0.value == $1.value })
            && a.user == b.user && a.awsOperation == b.awsOperation && a.exceptions == b.exceptions && a.links == b.links
            && a.subsegments == b.subsegments && a.inferred == b.inferred
    }

    /// End time, or the start for a segment still in progress.
    package var effectiveEnd: Double { endTime ?? startTime }
    package var duration: Double { max(0, effectiveEnd - startTime) }

    /// Every (sub)segment in this tree, depth first, this one first.
    package func forEachNode(_ body: (Segment) -> Void) {
        body(self)
        for s in subsegments { s.forEachNode(body) }
    }

    /// Moves the whole tree in time (clock-skew correction).
    package mutating func shift(by delta: Double) {
        let s = mutable
        s.startTime += delta
        if let e = s.endTime { s.endTime = e + delta }
        for i in s.subsegments.indices { s.subsegments[i].shift(by: delta) }
    }
}

/// Why a document is not accepted (PutTraceSegments reports it in `UnprocessedTraceSegments`).
package struct SegmentError: Error, Equatable, Sendable {
    package var code: String
    package var message: String
    /// The document's `id`, when it could be read.
    package var id: String?

    package init(_ code: String, _ message: String, id: String? = nil) {
        self.code = code
        self.message = message
        self.id = id
    }
}
