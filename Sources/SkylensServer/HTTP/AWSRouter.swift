import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SkylensCore
import SkylensWire

/// The HTTP routes of the collector: every AWS API on `POST /` (routed by `X-Amz-Target`) and the collector's own
/// endpoints under `/_skylens/`.
enum AWSRouter {
    static let maxBodyBytes = 8 * 1_048_576
    static let amzJSON11 = "application/x-amz-json-1.1"
    static let requestIDHeader = HTTPField.Name("x-amzn-RequestId")!
    static let targetHeader = HTTPField.Name("X-Amz-Target")!

    static func build(logs: LogsAPI, liveTail: LiveTailEndpoint, startedAt: Int64, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/") { request, context -> Response in
            let requestID = UUID().uuidString.lowercased()
            var request = request
            let target = request.headers[targetHeader] ?? ""
            do {
                let body = try await request.collectBody(upTo: maxBodyBytes)
                let bytes = Array(body.readableBytesView)
                guard target.hasPrefix(LogsAPI.targetPrefix) else {
                    throw WireError(.unknownOperation, target.isEmpty
                        ? "Missing X-Amz-Target header: Skylens routes AWS JSON requests by it."
                        : "Unknown operation \(target).")
                }
                let operation = String(target.dropFirst(LogsAPI.targetPrefix.count))
                let out = try await logs.handle(operation: operation, body: bytes)
                return json(out, status: .ok, requestID: requestID)
            } catch let error as WireError {
                if error.code.status >= 500 {
                    logger.error("request failed", metadata: ["aws.target": "\(target)", "error": "\(error)"])
                }
                return json(error.jsonBody, status: .init(code: error.code.status), requestID: requestID)
            } catch {
                let wire = WireError(.serialization, "Request body too large or unreadable: \(error)")
                return json(wire.jsonBody, status: .init(code: wire.code.status), requestID: requestID)
            }
        }
        router.get("/_skylens/health") { _, _ -> Response in
            var w = JSONWriter()
            w.beginObject()
            w.field("status", "ok")
            w.field("service", "skylens")
            w.field("startedAt", startedAt)
            w.endObject()
            return json(w.bytes, status: .ok, requestID: UUID().uuidString.lowercased(), contentType: "application/json")
        }
        router.get("/_skylens/tail") { request, _ -> Response in
            try await liveTail.respond(to: request)
        }
        return router
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status, requestID: String, contentType: String = amzJSON11) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[requestIDHeader] = requestID
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
