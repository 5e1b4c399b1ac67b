import Foundation
import Hummingbird
import SkylensCore
import SkylensWire

/// `GET /_skylens/tail?group=G[&pattern=P][&since=MS][&follow=true]`: newline-delimited JSON events.
///
/// First the stored events since `since` (FilterLogEvents semantics), then, with `follow`, every event as its batch
/// commits, pushed on the open response. The subscription is taken before the backlog is read, and live events the
/// backlog already held are skipped by (stream, seq), so no event is lost or repeated at the seam.
struct LiveTailEndpoint: Sendable {
    let store: any LogStore
    let liveTail: LiveTail

    func respond(to request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let group = query["group"].map(String.init), !group.isEmpty else {
            return AWSRouter.json(WireError(.invalidParameter, "the group query parameter is required").jsonBody,
                                  status: .badRequest, requestID: UUID().uuidString.lowercased(), contentType: "application/json")
        }
        let since = query["since"].flatMap { Int64(String($0)) }
        let follow = query["follow"].map { $0 == "true" || $0 == "1" } ?? false
        let matcher: CompiledFilterPattern
        do {
            matcher = try FilterPattern.parse(query["pattern"].map(String.init) ?? "").compile()
            _ = try await store.retention(ofGroup: group)
        } catch {
            let wire: WireError = switch error {
            case let e as FilterPatternError: WireError(e)
            case let e as LogsError: WireError(e)
            default: WireError(.serviceUnavailable, "\(error)")
            }
            return AWSRouter.json(wire.jsonBody, status: .init(code: wire.code.status), requestID: UUID().uuidString.lowercased(),
                                  contentType: "application/json")
        }
        let live = follow ? liveTail.subscribe(group: group) : nil
        let store = self.store
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var lastSeq: [Int64: Int64] = [:]
            var cursor: FilterCursor?
            repeat {
                let page = try await store.filterLogEvents(
                    FilterEventsQuery(group: group, startTime: since, cursor: cursor, limit: 10_000), matcher: matcher)
                var buffer = ByteBuffer()
                for event in page.events {
                    buffer.writeBytes(LogsResponses.tailLine(event, group: group))
                    lastSeq[event.streamID] = max(lastSeq[event.streamID] ?? 0, event.seq)
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
                cursor = page.nextToken.flatMap { try? FilterCursor.parse($0) }
            } while cursor != nil
            if let live {
                // Tell the client the backlog is done and the live part begins.
                try await writer.write(ByteBuffer(string: "\n"))
                for await batch in live {
                    var buffer = ByteBuffer()
                    for event in batch.events where event.seq > (lastSeq[event.streamID] ?? 0) {
                        if let since, event.timestamp < since { continue }
                        guard matcher.matches(event.message.utf8) else { continue }
                        buffer.writeBytes(LogsResponses.tailLine(event, group: group))
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
            try await writer.finish(nil)
        })
    }
}
