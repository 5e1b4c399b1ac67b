#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and validating segment documents as X-Ray does: straight from a document's bytes (the daemon and
/// PutTraceSegments) or from a value tree (stored texts read back, tests), both through the same members and rules.
extension Segment {
    /// A whole segment document (with subsegments, an in-progress fragment or an independent subsegment): 64 kB.
    package static let maxDocumentBytes = 64 * 1024
    /// X-Ray keeps traces for 30 days; an older trace id is refused (`InvalidTraceId`).
    package static let maxTraceAgeSeconds: Int64 = 30 * 86_400

    /// Parses and validates one top-level document as X-Ray does. `nowSeconds` judges the trace id's age.
    package static func parse(_ bytes: UnsafeRawBufferPointer, nowSeconds: Int64) throws(SegmentError) -> Segment {
        var traceIDs = TraceIDReuse()
        return try parse(bytes, nowSeconds: nowSeconds, reusing: &traceIDs)
    }

    /// Parses and validates one top-level document; a trace id equal to one `traceIDs` holds is shared with it
    /// instead of copied (documents of a trace arrive together: a batch's documents then hold one copy of their id).
    package static func parse(_ bytes: UnsafeRawBufferPointer, nowSeconds: Int64,
                              reusing traceIDs: inout TraceIDReuse) throws(SegmentError) -> Segment {
        guard bytes.count <= maxDocumentBytes else {
            throw SegmentError("DocumentTooLarge", "A segment document can be up to 64 kB; this one is \(bytes.count) bytes.")
        }
        // Read straight into the members the store keeps (no tree of the whole document); syntax errors first.
        // (Members, not an optional of them: unwrapping one copied every member.)
        var scanner = JSONScanner(bytes)
        let isObject = scanner.peek() == UInt8(ascii: "{")
        var members = Members()
        do {
            if isObject {
                try members.read(&scanner, depth: 0, traceIDs: &traceIDs)
            } else {
                _ = try scanner.readTree()
            }
            try scanner.expectEnd()
        } catch {
            throw SegmentError("InvalidDocument", "The segment document is not valid JSON: \(error)")
        }
        guard isObject else { throw SegmentError("InvalidDocument", "A segment document is a JSON object.") }
        return try parse(members, nowSeconds: nowSeconds, traceIDs: &traceIDs)
    }

    package static func parse(_ json: JSONValue, nowSeconds: Int64) throws(SegmentError) -> Segment {
        guard case .object(let members) = json else { throw SegmentError("InvalidDocument", "A segment document is a JSON object.") }
        var traceIDs = TraceIDReuse()
        return try parse(Members(members), nowSeconds: nowSeconds, traceIDs: &traceIDs)
    }

    private static func parse(_ json: Members, nowSeconds: Int64, traceIDs: inout TraceIDReuse) throws(SegmentError) -> Segment {
        // The id as text only for a refusal (making it for every document cost an allocation).
        var id: String? { json.id?.text }
        guard let traceID = json.traceID?.string else {
            throw SegmentError("MissingTraceId", "trace_id is required on a segment and on an independent subsegment.", id: id)
        }
        guard let seconds = traceIDs.epochSeconds(ofTraceID: traceID) else {
            throw SegmentError("InvalidTraceId", "trace_id \(traceID) is not 1-<8 hex digits>-<24 hex digits>.", id: id)
        }
        guard seconds >= nowSeconds - maxTraceAgeSeconds else {
            throw SegmentError("InvalidTraceId", "trace_id \(traceID) is more than 30 days old.", id: id)
        }
        let isSubsegment: Bool
        switch json.type {
        case nil: isSubsegment = false
        case .string("subsegment")?: isSubsegment = true
        case let other?: throw SegmentError("InvalidDocument", "type must be \"subsegment\" when present, not \(other).", id: id)
        }
        var segment = try node(json, traceID: traceID, embedded: false, isSubsegment: isSubsegment)
        if isSubsegment, segment.parentKey == nil {
            throw SegmentError("MissingParentId", "An independent subsegment needs parent_id.", id: id)
        }
        segment.isSubsegment = isSubsegment
        return segment
    }

    /// A document's members by name, read in one pass (the last of duplicate names wins, as with lookups): from a
    /// value tree, or straight from the document's bytes, where members no one reads are skipped unbuilt.
    private struct Members {
        /// Members kept as read (a trace id of any type is refused by its own error; the others are rare or nested).
        var traceID, type, cause, links: JSONValue?
        var annotations: Annotations?
        /// String members: nil when absent or not a string (the two are refused alike).
        var name, namespace, origin, user, resourceARN: String?
        /// Number members: nil when absent or not a number.
        var startTime, endTime: Double?
        /// Whether `end_time` is present (one that is not a number is refused; a missing one only without `in_progress`).
        var hasEndTime = false
        /// Flags: whether the member is `true`.
        var inProgress = false, error = false, fault = false, throttle = false
        var id, parentID: IDMember?
        var http: HTTP?
        /// `aws.operation`, when `aws` is an object and it a string.
        var awsOperation: String?
        var subsegments: Subsegments?

        /// What the store keeps of an `http` member (the last `request` and `response` objects win whole).
        struct HTTP {
            var method, url, userAgent, clientIP: String?
            var traced = false
            var status: JSONValue?

            init(_ value: JSONValue) {
                let request = value["request"], response = value["response"]
                method = request?["method"]?.string
                url = request?["url"]?.string
                userAgent = request?["user_agent"]?.string
                clientIP = request?["client_ip"]?.string
                traced = request?["traced"] == .bool(true)
                status = response?["status"]
            }

            init(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.SyntaxError) {
                try Members.forEachMember(&scanner, depth: depth) { (s: inout JSONScanner, name, depth) throws(JSONScanner.SyntaxError) in
                    switch name {
                    case .request:
                        (method, url, userAgent, clientIP, traced) = (nil, nil, nil, nil, false)
                        try Members.forEachMember(&s, depth: depth) { (s: inout JSONScanner, name, depth) throws(JSONScanner.SyntaxError) in
                            switch name {
                            case .method: method = try Members.string(&s, depth: depth)
                            case .url: url = try Members.string(&s, depth: depth)
                            case .userAgent: userAgent = try Members.string(&s, depth: depth)
                            case .clientIP: clientIP = try Members.string(&s, depth: depth)
                            case .traced: traced = try s.readTree(depth: depth) == .bool(true)
                            default: try s.skipValue(depth: depth)
                            }
                        }
                    case .response:
                        status = nil
                        try Members.forEachMember(&s, depth: depth) { (s: inout JSONScanner, name, depth) throws(JSONScanner.SyntaxError) in
                            if name == .status { status = try s.readTree(depth: depth) } else { try s.skipValue(depth: depth) }
                        }
                    default: try s.skipValue(depth: depth)
                    }
                }
            }
        }

        /// The `annotations` member: its pairs (the last of duplicate keys wins, moved to the end), or why it is refused
        /// (the first problem in the document's order). Read straight from the bytes into pairs (as a value tree it cost
        /// an allocation for the object and more as it grew), or from a value tree.
        enum Annotations {
            case pairs([(key: String, value: AnnotationValue)])
            case notAnObject
            case invalidKey(String)
            case invalidValue(String)

            init(_ value: JSONValue) {
                guard case .object(let members) = value else {
                    self = .notAnObject
                    return
                }
                var builder = Builder()
                for (name, v) in members { builder.add(name, AnnotationValue(v)) }
                self = builder.result
            }

            /// Reads the value at the scanner (nested `depth` deep), as ``JSONScanner/readTree(depth:)`` would check it.
            init(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.SyntaxError) {
                guard scanner.peek() == UInt8(ascii: "{") else {
                    _ = try scanner.readTree(depth: depth)
                    self = .notAnObject
                    return
                }
                guard depth < 256 else { throw scanner.error("nesting too deep") }
                var builder = Builder()
                // Each value read as the tree reader reads it (a scalar is no allocation beyond its string): only the
                // object itself is not built.
                try scanner.forEachNamedMember { (s: inout JSONScanner, name: String) throws(JSONScanner.SyntaxError) in
                    builder.add(name, AnnotationValue(try s.readTree(depth: depth + 1)))
                }
                self = builder.result
            }

            private struct Builder {
                var pairs: [(key: String, value: AnnotationValue)] = []
                var problem: Annotations?

                mutating func add(_ name: String, _ value: AnnotationValue?) {
                    guard problem == nil else { return }
                    guard TraceIdentifiers.isValidAnnotationKey(name) else {
                        problem = .invalidKey(name)
                        return
                    }
                    guard let value else {
                        problem = .invalidValue(name)
                        return
                    }
                    if pairs.isEmpty {
                        pairs.reserveCapacity(4)
                    } else {
                        pairs.removeAll { $0.key == name }
                    }
                    pairs.append((name, value))
                }

                var result: Annotations { problem ?? .pairs(pairs) }
            }
        }

        /// Names of the members read inside `http` and `aws`.
        enum NestedName {
            case request, response, method, url, userAgent, clientIP, traced, status, operation

            init?(_ b: UnsafeRawBufferPointer) {
                switch b.count {
                case 3 where Members.named(b, "url"): self = .url
                case 6 where Members.named(b, "method"): self = .method
                case 6 where Members.named(b, "status"): self = .status
                case 6 where Members.named(b, "traced"): self = .traced
                case 7 where Members.named(b, "request"): self = .request
                case 8 where Members.named(b, "response"): self = .response
                case 9 where Members.named(b, "client_ip"): self = .clientIP
                case 9 where Members.named(b, "operation"): self = .operation
                case 10 where Members.named(b, "user_agent"): self = .userAgent
                default: return nil
                }
            }
        }

        static func named(_ b: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == b.count && memcmp(b.baseAddress!, name.utf8Start, b.count) == 0
        }

        /// Calls `body` with each member of the object at the scanner (nested `depth` deep) whose name is one of
        /// ``NestedName``, and the depth of its value; skips the others, and a value that is not an object.
        static func forEachMember(_ scanner: inout JSONScanner, depth: Int,
                                  _ body: (inout JSONScanner, NestedName?, Int) throws(JSONScanner.SyntaxError) -> Void)
            throws(JSONScanner.SyntaxError) {
            guard scanner.peek() == UInt8(ascii: "{") else {
                try scanner.skipValue(depth: depth)
                return
            }
            guard depth < 256 else { throw scanner.error("nesting too deep") }
            try scanner.expect(UInt8(ascii: "{"))
            if scanner.consume(UInt8(ascii: "}")) { return }
            repeat {
                let name = try scanner.readKey { NestedName($0) }
                try scanner.expect(UInt8(ascii: ":"))
                try body(&scanner, name, depth + 1)
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
        }

        /// A string value, or nil (the value skipped) for any other type.
        static func string(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.SyntaxError) -> String? {
            if scanner.peek() == UInt8(ascii: "\"") { return try scanner.readString() }
            try scanner.skipValue(depth: depth)
            return nil
        }

        /// A number value, or nil (the value skipped) for any other type.
        static func number(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.SyntaxError) -> Double? {
            if let b = scanner.peek(), b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
                return try scanner.readNumber()
            }
            try scanner.skipValue(depth: depth)
            return nil
        }

        /// Whether the value is `true` (any other value skipped).
        static func isTrue(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.SyntaxError) -> Bool {
            if scanner.peek() == UInt8(ascii: "t") { return try scanner.readBool() }
            try scanner.skipValue(depth: depth)
            return false
        }

        enum Subsegments {
            /// `subsegments` is not an array.
            case notArray
            /// Each element's members, nil for an element that is not an object (read from a value tree).
            case list([Members?])
            /// Each element's bytes, checked but not yet read (read from a document's bytes before its trace id or id):
            /// each is read when its subsegment is made, so that a document's subsegments are never all held as
            /// members at once (several hundred bytes each: the list of them took an allocation too large for the
            /// allocator's fast path).
            case elements([UnsafeRawBufferPointer], depth: Int)
            /// Each element made into its subsegment (or the error that refuses it) as the document was read, in one
            /// pass, against the trace id and the id then known; with its bytes, to be read again if a later member
            /// changes either.
            case made([(bytes: UnsafeRawBufferPointer, segment: Result<Segment, SegmentError>)], depth: Int, traceID: String,
                      parent: SegmentKey)
        }

        enum Key {
            case id, name, traceID, parentID, startTime, endTime, inProgress, type, annotations, http, cause, links, subsegments,
                 namespace, origin, user, aws, resourceARN, error, fault, throttle

            /// The member a name (as UTF-8) stands for, if it is one the store keeps.
            init?(_ b: UnsafeRawBufferPointer) {
                func named(_ name: StaticString) -> Bool { Members.named(b, name) }
                switch b.count {
                case 2 where named("id"): self = .id
                case 3 where named("aws"): self = .aws
                case 4 where named("name"): self = .name
                case 4 where named("type"): self = .type
                case 4 where named("http"): self = .http
                case 4 where named("user"): self = .user
                case 5 where named("cause"): self = .cause
                case 5 where named("links"): self = .links
                case 5 where named("error"): self = .error
                case 5 where named("fault"): self = .fault
                case 6 where named("origin"): self = .origin
                case 8 where named("trace_id"): self = .traceID
                case 8 where named("end_time"): self = .endTime
                case 8 where named("throttle"): self = .throttle
                case 9 where named("parent_id"): self = .parentID
                case 9 where named("namespace"): self = .namespace
                case 10 where named("start_time"): self = .startTime
                case 11 where named("in_progress"): self = .inProgress
                case 11 where named("annotations"): self = .annotations
                case 11 where named("subsegments"): self = .subsegments
                case 12 where named("resource_arn"): self = .resourceARN
                default: return nil
                }
            }
        }

        /// None of the members.
        init() {}

        init(_ members: [(String, JSONValue)]) {
            for (name, value) in members {
                var name = name
                guard let key = name.withUTF8({ Key(UnsafeRawBufferPointer($0)) }) else { continue }
                set(key, value)
            }
        }

        /// An `id` member as a key, when it is a valid id. (Static, taking the member: a property of `self` read while
        /// the members are being read copied all of them.)
        static func key(_ id: IDMember?) -> SegmentKey? {
            if case .key(let k)? = id { k } else { nil }
        }

        /// An `id` or `parent_id` member: a valid id kept as its number (no string made for it), anything else as read.
        enum IDMember {
            case key(SegmentKey)
            case other(JSONValue)

            init(_ value: JSONValue) {
                if case .string(let s) = value, let v = TraceIdentifiers.segmentIDValue(s) {
                    self = .key(SegmentKey(value: v))
                } else {
                    self = .other(value)
                }
            }

            init(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.SyntaxError) {
                guard scanner.peek() == UInt8(ascii: "\"") else {
                    self = .other(try scanner.readTree(depth: depth))
                    return
                }
                self = try scanner.readString { b in
                    SegmentKey(validID: b).map(IDMember.key) ?? .other(.string(String(decoding: b, as: UTF8.self)))
                }
            }

            /// The member as text, when it is a string.
            var text: String? {
                switch self {
                case .key(let k): k.hex
                case .other(let v): v.string
                }
            }
        }

        /// Reads an object (the scanner before its `{`) nested `depth` deep, as ``JSONScanner/readTree(depth:)`` would,
        /// into these members (none yet). `inherited` is the trace id of the document a subsegment is embedded in (its
        /// subsegments are made against it; a document's own are made against its `trace_id` when that comes first).
        /// A method on members the caller holds, not an initializer: one copied all the members to return them.
        mutating func read(_ scanner: inout JSONScanner, depth: Int, traceIDs: inout TraceIDReuse,
                           inherited: String? = nil) throws(JSONScanner.SyntaxError) {
            guard depth < 256 else { throw scanner.error("nesting too deep") }
            try scanner.expect(UInt8(ascii: "{"))
            if scanner.consume(UInt8(ascii: "}")) { return }
            repeat {
                let key = try scanner.readKey { Key($0) }
                try scanner.expect(UInt8(ascii: ":"))
                switch key {
                case .id?: id = try IDMember(&scanner, depth: depth + 1)
                case .parentID?: parentID = try IDMember(&scanner, depth: depth + 1)
                case .traceID? where scanner.peek() == UInt8(ascii: "\""):
                    traceID = .string(try scanner.readString { traceIDs.string($0) })
                case .origin? where scanner.peek() == UInt8(ascii: "\""):
                    origin = try scanner.readString(Self.origin)
                case .name?: name = try Self.string(&scanner, depth: depth + 1)
                case .namespace?: namespace = try Self.string(&scanner, depth: depth + 1)
                case .user?: user = try Self.string(&scanner, depth: depth + 1)
                case .resourceARN?: resourceARN = try Self.string(&scanner, depth: depth + 1)
                case .startTime?: startTime = try Self.number(&scanner, depth: depth + 1)
                case .endTime?:
                    endTime = try Self.number(&scanner, depth: depth + 1)
                    hasEndTime = true
                case .inProgress?: inProgress = try Self.isTrue(&scanner, depth: depth + 1)
                case .error?: error = try Self.isTrue(&scanner, depth: depth + 1)
                case .fault?: fault = try Self.isTrue(&scanner, depth: depth + 1)
                case .throttle?: throttle = try Self.isTrue(&scanner, depth: depth + 1)
                case .subsegments?:
                    subsegments = try Self.readSubsegments(&scanner, depth: depth + 1, traceID: inherited ?? traceID?.string, parent: Self.key(id),
                                                           traceIDs: &traceIDs)
                case .http?: http = try HTTP(&scanner, depth: depth + 1)
                case .annotations?: annotations = try Annotations(&scanner, depth: depth + 1)
                case .aws?:
                    var operation: String?
                    try Self.forEachMember(&scanner, depth: depth + 1) { (s: inout JSONScanner, name, depth) throws(JSONScanner.SyntaxError) in
                        if name == .operation { operation = try Self.string(&s, depth: depth) } else { try s.skipValue(depth: depth) }
                    }
                    awsOperation = operation
                case let key?: set(key, try scanner.readTree(depth: depth + 1))
                case nil: try scanner.skipValue(depth: depth + 1)
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
            // A trace id or id read after the subsegments (or a second one) is the one they are made against.
            if case .made(let made, let depth, let usedTraceID, let usedParent)? = subsegments,
               usedTraceID != (inherited ?? traceID?.string) || usedParent != Self.key(id) {
                subsegments = .elements(made.map(\.bytes), depth: depth)
            }
        }

        /// The origins the AWS SDKs and services set, as literals: a document naming one shares it instead of copying
        /// it (the service ids made from it are then copied without reference counting).
        static let knownOrigins: [String] = [
            "AWS::EC2::Instance", "AWS::ECS::Container", "AWS::EKS::Container", "AWS::ElasticBeanstalk::Environment",
            "AWS::Lambda", "AWS::Lambda::Function", "AWS::ApiGateway::Stage", "AWS::AppSync::GraphQLAPI",
            "AWS::StepFunctions::StateMachine",
        ]

        static func origin(_ bytes: UnsafeRawBufferPointer) -> String {
            for known in knownOrigins where equal(known, bytes) { return known }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// The members of an object whose bytes were checked when its document was read (so reading them again
        /// finds no syntax error).
        static func read(_ bytes: UnsafeRawBufferPointer, depth: Int) throws(SegmentError) -> Members {
            var scanner = JSONScanner(bytes)
            var traceIDs = TraceIDReuse()
            var members = Members()
            do {
                try members.read(&scanner, depth: depth, traceIDs: &traceIDs)
                return members
            } catch {
                throw SegmentError("InvalidDocument", "The segment document is not valid JSON: \(error)")
            }
        }

        private static func readSubsegments(_ scanner: inout JSONScanner, depth: Int, traceID: String?, parent: SegmentKey?,
                                            traceIDs: inout TraceIDReuse) throws(JSONScanner.SyntaxError) -> Subsegments {
            guard scanner.peek() == UInt8(ascii: "[") else {
                try scanner.skipValue(depth: depth)
                return .notArray
            }
            guard depth < 256 else { throw scanner.error("nesting too deep") }
            guard let traceID, let parent else {
                var elements: [UnsafeRawBufferPointer] = []
                elements.reserveCapacity(4)
                try scanner.forEachElement { (s: inout JSONScanner) throws(JSONScanner.SyntaxError) in
                    elements.append(try s.skipValueReturningBytes(depth: depth + 1))
                }
                return .elements(elements, depth: depth + 1)
            }
            var made: [(bytes: UnsafeRawBufferPointer, segment: Result<Segment, SegmentError>)] = []
            made.reserveCapacity(4)
            try scanner.forEachElement { (s: inout JSONScanner) throws(JSONScanner.SyntaxError) in
                guard s.peek() == UInt8(ascii: "{") else {
                    made.append((try s.skipValueReturningBytes(depth: depth + 1), .failure(notAnObject)))
                    return
                }
                var members = Members()
                let ((), bytes) = try s.readingBytes { (s: inout JSONScanner) throws(JSONScanner.SyntaxError) in
                    try members.read(&s, depth: depth + 1, traceIDs: &traceIDs, inherited: traceID)
                }
                made.append((bytes, Result { () throws(SegmentError) in
                    try node(members, traceID: traceID, embedded: true, isSubsegment: true, parent: parent)
                }))
            }
            return .made(made, depth: depth + 1, traceID: traceID, parent: parent)
        }

        /// Keeps a member read as a value tree (the byte reader reads `id`, `parent_id`, `trace_id`, `subsegments`,
        /// `http` and `aws` in place).
        private mutating func set(_ key: Key, _ value: JSONValue) {
            switch key {
            case .id: id = IDMember(value)
            case .name: name = value.string
            case .traceID: traceID = value
            case .parentID: parentID = IDMember(value)
            case .startTime: startTime = value.number
            case .endTime:
                endTime = value.number
                hasEndTime = true
            case .inProgress: inProgress = value == .bool(true)
            case .type: type = value
            case .annotations: annotations = Annotations(value)
            case .http: http = HTTP(value)
            case .aws: awsOperation = value["operation"]?.string
            case .cause: cause = value
            case .links: links = value
            case .subsegments:
                subsegments = value.array.map { list in
                    .list(list.map { element in if case .object(let m) = element { Members(m) } else { nil } })
                } ?? .notArray
            case .namespace: namespace = value.string
            case .origin: origin = value.string
            case .user: user = value.string
            case .resourceARN: resourceARN = value.string
            case .error: error = value == .bool(true)
            case .fault: fault = value == .bool(true)
            case .throttle: throttle = value == .bool(true)
            }
        }
    }

    private static let notAnObject = SegmentError("InvalidDocument", "A subsegment is a JSON object.")

    /// A (sub)segment from its members; an embedded one without `parent_id` takes `parent`, the id of the
    /// (sub)segment it is embedded in.
    private static func node(_ json: Members, traceID: String, embedded: Bool, isSubsegment: Bool,
                             parent: SegmentKey? = nil) throws(SegmentError) -> Segment {
        let key: SegmentKey
        switch json.id {
        case .key(let k)?: key = k
        case .other(.string(let id))?: throw SegmentError("InvalidId", "id \(id) is not 16 hexadecimal digits.", id: id)
        default: throw SegmentError("MissingId", "id is required.")
        }
        guard let name = json.name else { throw SegmentError("MissingName", "name is required.", id: key.hex) }
        guard TraceIdentifiers.isValidName(name) else {
            throw SegmentError("InvalidName", "name \"\(name)\" must be 1 to 200 letters, numbers, whitespace or _ . : / % & # = + \\ - @.", id: key.hex)
        }
        guard let start = json.startTime, start.isFinite, start > 0 else {
            throw SegmentError("InvalidStartTime", "start_time is required, in epoch seconds.", id: key.hex)
        }
        let inProgress = json.inProgress
        let end = json.endTime
        if json.hasEndTime, end == nil || !end!.isFinite {
            throw SegmentError("InvalidEndTime", "end_time is a number of epoch seconds.", id: key.hex)
        }
        switch (end, inProgress) {
        case (nil, false): throw SegmentError("MissingEndTime", "end_time is required unless in_progress is true.", id: key.hex)
        case (.some, true): throw SegmentError("InvalidEndTime", "A segment has either end_time or in_progress: true, not both.", id: key.hex)
        case let (e?, false) where e < start:
            throw SegmentError("InvalidEndTime", "end_time is before start_time.", id: key.hex)
        default: break
        }
        var parentKey: SegmentKey?
        switch json.parentID {
        case nil: parentKey = parent
        case .key(let k)?: parentKey = k
        case .other?: throw SegmentError("InvalidParentId", "parent_id is 16 hexadecimal digits.", id: key.hex)
        }
        if embedded, json.traceID != nil, json.traceID?.string != traceID {
            throw SegmentError("InvalidTraceId", "An embedded subsegment carries its segment's trace_id.", id: key.hex)
        }
        var annotations: [(key: String, value: AnnotationValue)] = []
        switch json.annotations {
        case nil: break
        case .pairs(let pairs)?: annotations = pairs
        case .notAnObject?: throw SegmentError("InvalidAnnotations", "annotations is an object of keys to values.", id: key.hex)
        case .invalidKey(let name)?:
            throw SegmentError("InvalidAnnotations", "Annotation key \"\(name)\": keys are letters, digits and underscores.", id: key.hex)
        case .invalidValue(let name)?:
            throw SegmentError("InvalidAnnotations", "Annotation \(name): values are strings, numbers or booleans.", id: key.hex)
        }
        var http = SegmentHTTP()
        if let h = json.http {
            http.method = h.method
            http.url = h.url
            http.userAgent = h.userAgent
            http.clientIP = h.clientIP
            http.traced = h.traced
            if let s = h.status {
                guard let n = s.number, n == n.rounded(), n >= 0, n < 1000 else {
                    throw SegmentError("InvalidHttp", "http.response.status is an integer status code.", id: key.hex)
                }
                http.status = Int(n)
            }
        }
        var exceptions: [SegmentException] = []
        if case .object = json.cause {
            for e in json.cause?["exceptions"]?.array ?? [] {
                guard let eid = e["id"]?.string else { continue }
                exceptions.append(SegmentException(id: eid, type: e["type"]?.string, message: e["message"]?.string,
                                                   remote: e["remote"] == .bool(true)))
            }
        }
        var links: [SegmentLink] = []
        for l in json.links?.array ?? [] {
            if let t = l["trace_id"]?.string, let lid = l["id"]?.string, TraceIdentifiers.isValidTraceID(t) {
                links.append(SegmentLink(traceID: t, id: lid))
            }
        }
        var subsegments: [Segment] = []
        func add(_ element: Members?) throws(SegmentError) {
            guard let element else { throw notAnObject }
            subsegments.append(try node(element, traceID: traceID, embedded: true, isSubsegment: true, parent: key))
        }
        switch json.subsegments {
        case nil: break
        case .notArray?: throw SegmentError("InvalidSubsegments", "subsegments is an array of subsegment objects.", id: key.hex)
        case .list(let list)?:
            subsegments.reserveCapacity(list.count)
            for element in list { try add(element) }
        case .elements(let elements, let depth)?:
            subsegments.reserveCapacity(elements.count)
            for bytes in elements { try add(bytes.first == UInt8(ascii: "{") ? Members.read(bytes, depth: depth) : nil) }
        case .made(let made, _, _, _)?:
            subsegments.reserveCapacity(made.count)
            for m in made { subsegments.append(try m.segment.get()) }
        }
        return Segment(
            key: key, traceID: traceID, parentKey: parentKey, name: name, startTime: start, endTime: end, inProgress: inProgress,
            isSubsegment: isSubsegment, namespace: json.namespace, origin: json.origin, http: http,
            error: json.error, fault: json.fault, throttle: json.throttle, annotations: annotations,
            user: json.user, awsOperation: json.awsOperation,
            resourceARN: json.resourceARN, exceptions: exceptions, links: links, subsegments: subsegments)
    }
}

/// The trace id last read by a parser, handed back when the next document names the same trace (the string is then
/// shared, not copied).
package struct TraceIDReuse {
    private var last: String?

    package init() {}

    /// The time of the trace id read last, once worked out (nil: not yet, or not valid).
    private var lastSeconds: Int64?

    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String {
        if let last, equal(last, bytes) { return last }
        let s = String(decoding: bytes, as: UTF8.self)
        last = s
        lastSeconds = nil
        return s
    }

    /// ``TraceIdentifiers/epochSeconds(ofTraceID:)``, read once for a run of documents of one trace.
    mutating func epochSeconds(ofTraceID id: String) -> Int64? {
        if let lastSeconds, last == id { return lastSeconds }
        let seconds = TraceIdentifiers.epochSeconds(ofTraceID: id)
        if last == id { lastSeconds = seconds }
        return seconds
    }
}

/// Whether a native string's UTF-8 is `bytes` (compared with `memcmp`; a string without contiguous UTF-8 is unequal).
private func equal(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
    string.utf8.withContiguousStorageIfAvailable { utf8 in
        utf8.count == bytes.count && (bytes.count == 0 || memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
    } ?? false
}
