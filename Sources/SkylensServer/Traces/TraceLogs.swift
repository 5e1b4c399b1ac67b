import SkylensCore
import SkylensWire

/// The log lines of a trace (`GET /_skylens/traces/<id>/logs`): the events that name the trace id, and for a Lambda
/// invocation (a REPORT or END line naming it) every line of that request id in the same stream.
struct TraceLogs: Sendable {
    let logs: any LogStore
    let traces: any TraceStore
    /// A Lambda invocation lasts at most 15 minutes: its lines are looked for that far before its REPORT line.
    static let invocationWindow: Int64 = 15 * 60 * 1000

    struct Line {
        var group: String
        var event: StoredEvent
    }

    func lines(traceID: String) async throws -> [Line] {
        let ids = [traceID] + (try await traces.traces(ids: [traceID]).first?.facts.linkedTraceIDs ?? [])
        let references = try await traces.logReferences(traceIDs: ids)
        var byStream: [String: (group: String, stream: String, from: Int64, to: Int64)] = [:]
        for r in references {
            let key = r.logGroup + "\u{1F}" + r.logStream
            let w = byStream[key] ?? (r.logGroup, r.logStream, r.first, r.last)
            byStream[key] = (w.group, w.stream, min(w.from, r.first), max(w.to, r.last))
        }
        var out: [String: Line] = [:]
        for w in byStream.values.sorted(by: { ($0.group, $0.stream) < ($1.group, $1.stream) }) {
            // The lines naming the trace, then every line of the Lambda requests they end.
            var requestIDs: [String] = []
            for id in ids {
                for event in try await search(group: w.group, stream: w.stream, term: id, from: w.from, to: w.to) {
                    out["\(event.streamID)/\(event.seq)"] = Line(group: w.group, event: event)
                    if let r = Self.lambdaRequestID(event.message), !requestIDs.contains(r) { requestIDs.append(r) }
                }
            }
            for r in requestIDs {
                for event in try await search(group: w.group, stream: w.stream, term: r, from: w.from - Self.invocationWindow, to: w.to) {
                    out["\(event.streamID)/\(event.seq)"] = Line(group: w.group, event: event)
                }
            }
        }
        return out.values.sorted { ($0.event.timestamp, $0.event.seq) < ($1.event.timestamp, $1.event.seq) }
    }

    private func search(group: String, stream: String, term: String, from: Int64, to: Int64) async throws -> [StoredEvent] {
        let matcher = try FilterPattern.parse("\"\(term)\"").compile()
        let page = try await logs.filterLogEvents(
            FilterEventsQuery(group: group, streamNames: [stream], startTime: from - 1000, endTime: to + 1000, limit: 10_000),
            matcher: matcher)
        return page.events
    }

    /// The request id of a Lambda platform line (`REPORT RequestId: …`, `END RequestId: …`).
    static func lambdaRequestID(_ message: String) -> String? {
        for prefix in ["REPORT RequestId: ", "END RequestId: "] where message.hasPrefix(prefix) {
            let rest = message.dropFirst(prefix.count)
            let id = rest.prefix { !$0.isWhitespace }
            return id.isEmpty ? nil : String(id)
        }
        return nil
    }

    func document(traceID: String) async throws -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("events")
        w.beginArray()
        for line in try await lines(traceID: traceID) {
            w.beginObject()
            w.field("logGroupName", line.group)
            w.field("logStreamName", line.event.stream)
            w.field("timestamp", line.event.timestamp)
            w.field("message", line.event.message)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
