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
    static let queryErrorHeader = HTTPField.Name("x-amzn-query-error")!
    static let smithyProtocolHeader = HTTPField.Name("smithy-protocol")!
    static let amzJSON10 = "application/x-amz-json-1.0"
    static let formContentType = "application/x-www-form-urlencoded"

    static let errorTypeHeader = HTTPField.Name("x-amzn-ErrorType")!
    static let traceIDHeader = HTTPField.Name("X-Amzn-Trace-Id")!

    static func build(logs: LogsAPI, cloudWatch: CloudWatchAPI, sns: SNSAPI, xray: XRayAPI, traceLogs: TraceLogs,
                      daemon: XRayDaemon, liveTail: LiveTailEndpoint, startedAt: Int64,
                      logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        // X-Ray (rest-json): one POST path per operation.
        for (path, operation) in XRayAPI.operations {
            router.post(.init(stringLiteral: path)) { request, _ -> Response in
                await xrayJSON(xray, operation: operation, request: request, logger: logger)
            }
        }
        router.post("/") { request, context -> Response in
            let requestID = UUID().uuidString.lowercased()
            var request = request
            let target = request.headers[targetHeader] ?? ""
            do {
                let body = try await request.collectBody(upTo: maxBodyBytes)
                var bytes = Array(body.readableBytesView)
                if target.isEmpty, request.headers[.contentType]?.hasPrefix(formContentType) == true {
                    if request.headers[.contentEncoding] == "gzip" { bytes = try Gzip.decompress(bytes) }
                    return await query(cloudWatch, sns, bytes: bytes, requestID: requestID, traceHeader: request.headers[traceIDHeader])
                }
                if target.hasPrefix(CloudWatchAPI.service + ".") {
                    if request.headers[.contentEncoding] == "gzip" { bytes = try Gzip.decompress(bytes) }
                    return await cloudWatchJSON(cloudWatch, operation: String(target.dropFirst(CloudWatchAPI.service.count + 1)),
                                                bytes: bytes, requestID: requestID)
                }
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
        // smithy-rpc-v2-cbor: POST /service/<service>/operation/<operation>, the default protocol of current SDKs.
        router.post("/service/:service/operation/:operation") { request, context -> Response in
            let requestID = UUID().uuidString.lowercased()
            var request = request
            let service = context.parameters.get("service") ?? ""
            let operation = context.parameters.get("operation") ?? ""
            guard service == CloudWatchAPI.service else {
                let error = CloudWatchError(.unknownOperation, "Unknown service \(service).")
                return cbor(CBOR.encode(error.body), status: .init(code: 404), requestID: requestID, queryError: error.queryErrorHeader)
            }
            do {
                var bytes = Array(try await request.collectBody(upTo: maxBodyBytes).readableBytesView)
                if request.headers[.contentEncoding] == "gzip" { bytes = try Gzip.decompress(bytes) }
                let document = bytes.isEmpty ? WireValue.map([]) : try CBOR.decode(bytes)
                let out = try await cloudWatch.handle(operation: operation, body: document)
                return cbor(CBOR.encode(out), status: .ok, requestID: requestID, queryError: nil)
            } catch let error as CloudWatchError {
                return cbor(CBOR.encode(error.body), status: .init(code: error.code.status), requestID: requestID,
                            queryError: error.queryErrorHeader)
            } catch {
                let wire = CloudWatchError(.serialization, "The request body is not valid CBOR: \(error)")
                return cbor(CBOR.encode(wire.body), status: .badRequest, requestID: requestID, queryError: wire.queryErrorHeader)
            }
        }
        router.get("/_skylens/health") { _, _ -> Response in
            var w = JSONWriter()
            w.beginObject()
            w.field("status", "ok")
            w.field("service", "skylens")
            w.field("startedAt", startedAt)
            // X-Ray documents: taken off the daemon socket and parsed, refused there (bad datagrams or documents),
            // dropped because too many were waiting, waiting for their trace's root segment, stored.
            let (received, refused) = daemon.counts.withLock { ($0.accepted + $0.rejected, $0.rejected) }
            w.key("xray")
            w.beginObject()
            w.field("datagramsReceived", received)
            w.field("datagramsRefused", refused)
            w.field("datagramsDropped", daemon.dropped)
            w.field("documentsHeld", daemon.held)
            w.field("documentsStored", xray.writer.stored.withLock { $0 })
            w.endObject()
            w.endObject()
            return json(w.bytes, status: .ok, requestID: UUID().uuidString.lowercased(), contentType: "application/json")
        }
        // A trace's log lines (the events linked to it by trace id, and the rest of their Lambda invocations).
        router.get("/_skylens/traces/:id/logs") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard TraceIdentifiers.isValidTraceID(id) else {
                return json(XRayError.invalid("Invalid trace id \(id).").body.jsonBytes, status: .badRequest,
                            requestID: UUID().uuidString.lowercased(), contentType: "application/json")
            }
            return json(try await traceLogs.document(traceID: id), status: .ok, requestID: UUID().uuidString.lowercased(),
                        contentType: "application/json")
        }
        router.get("/_skylens/tail") { request, _ -> Response in
            try await liveTail.respond(to: request)
        }
        // The dead-letter queue of deliveries (with the outbox's counts): listed, and replayed (all, or `?id=1&id=2`).
        router.get("/_skylens/dlq") { _, _ -> Response in
            let outbox = try await sns.notifier.store.outboxCounts()
            var w = JSONWriter()
            w.beginObject()
            // The outbox beside the dead letters: deliveries still pending, and those already retried.
            w.field("pending", outbox.pending)
            w.field("retrying", outbox.retrying)
            w.key("deadLetters")
            w.beginArray()
            for d in try await sns.notifier.store.deadLetters() {
                w.beginObject()
                w.field("id", d.id)
                w.field("topicArn", d.topicArn)
                w.field("subscriptionArn", d.subscriptionArn)
                w.field("endpoint", d.endpoint)
                w.field("messageType", d.messageType)
                w.field("messageId", d.messageId)
                w.field("attempts", d.attempts)
                w.field("lastError", d.lastError ?? "")
                w.field("body", d.body)
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return json(w.bytes, status: .ok, requestID: UUID().uuidString.lowercased(), contentType: "application/json")
        }
        router.post("/_skylens/dlq/replay") { request, _ -> Response in
            let ids = request.uri.queryParameters.getAll("id").compactMap { Int64(String($0)) }
            let replayed = try await sns.notifier.store.replay(ids: ids.isEmpty ? nil : ids, now: sns.notifier.wallClock.nowMillis())
            var w = JSONWriter()
            w.beginObject()
            w.field("replayed", replayed)
            w.endObject()
            return json(w.bytes, status: .ok, requestID: UUID().uuidString.lowercased(), contentType: "application/json")
        }
        // SNS's own URLs, served by the collector: the signing certificate, and the links in deliveries.
        router.get(.init(stringLiteral: Notifier.certificatePath)) { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/x-pem-file"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try sns.notifier.signer.certificatePEM())))
        }
        for (path, action) in [(Notifier.confirmPath, "ConfirmSubscription"), (Notifier.unsubscribePath, "Unsubscribe")] {
            router.get(.init(stringLiteral: path)) { request, _ -> Response in
                await query(cloudWatch, sns, bytes: Array(queryForm(request, action: action).utf8), requestID: UUID().uuidString.lowercased())
            }
        }
        return router
    }

    /// rest-json for X-Ray: errors carry their code in `x-amzn-ErrorType` and a `{"message": …}` body.
    static func xrayJSON(_ api: XRayAPI, operation: String, request: Request, logger: Logger) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        var request = request
        do {
            var bytes = Array(try await request.collectBody(upTo: maxBodyBytes).readableBytesView)
            if request.headers[.contentEncoding] == "gzip" { bytes = try Gzip.decompress(bytes) }
            let document: WireValue
            do {
                document = bytes.isEmpty ? .map([]) : try WireValue.parseJSON(bytes)
            } catch {
                throw XRayError.invalid("The request body is not valid JSON: \(error)")
            }
            let out = try await api.handle(operation: operation, body: document)
            return json(out.jsonBytes, status: .ok, requestID: requestID, contentType: "application/json")
        } catch let error as XRayError {
            if error.code.status >= 500 { logger.error("x-ray request failed", metadata: ["operation": "\(operation)", "error": "\(error)"]) }
            var response = json(error.body.jsonBytes, status: .init(code: error.code.status), requestID: requestID,
                                contentType: "application/json")
            response.headers[errorTypeHeader] = error.code.rawValue
            return response
        } catch {
            let wire = XRayError.invalid("Request body too large or unreadable: \(error)")
            var response = json(wire.body.jsonBytes, status: .badRequest, requestID: requestID, contentType: "application/json")
            response.headers[errorTypeHeader] = wire.code.rawValue
            return response
        }
    }

    /// AWS JSON 1.0 for CloudWatch, with the query-compatible error header.
    static func cloudWatchJSON(_ api: CloudWatchAPI, operation: String, bytes: [UInt8], requestID: String) async -> Response {
        do {
            // PutMetricData bodies (up to 1,000 datums) are read straight into datums; other operations as documents.
            if operation == "PutMetricData", !bytes.isEmpty {
                let out = try await api.putMetricData(json: bytes)
                return json(out.jsonBytes, status: .ok, requestID: requestID, contentType: amzJSON10)
            }
            let document: WireValue
            do {
                document = bytes.isEmpty ? .map([]) : try WireValue.parseJSON(bytes)
            } catch {
                throw CloudWatchError.invalidJSON(error)
            }
            let out = try await api.handle(operation: operation, body: document)
            return json(out.jsonBytes, status: .ok, requestID: requestID, contentType: amzJSON10)
        } catch let error as CloudWatchError {
            var response = json(error.body.jsonBytes, status: .init(code: error.code.status), requestID: requestID, contentType: amzJSON10)
            response.headers[queryErrorHeader] = error.queryErrorHeader
            return response
        } catch {
            return json(CloudWatchError(.internalFailure, "\(error)").body.jsonBytes, status: .internalServerError,
                        requestID: requestID, contentType: amzJSON10)
        }
    }

    /// The query protocol (form-encoded parameters, XML answers), routed by `Version`: SNS (2010-03-31) or
    /// CloudWatch (2010-08-01, also when absent), then by `Action`.
    static func query(_ cloudWatch: CloudWatchAPI, _ sns: SNSAPI, bytes: [UInt8], requestID: String, traceHeader: String? = nil) async -> Response {
        func failure(_ code: String, _ message: String, status: Int, xmlns: String) -> Response {
            xml(QueryResponse.error(code: code, message: message, sender: status < 500, requestID: requestID, xmlns: xmlns),
                status: .init(code: status), requestID: requestID)
        }
        let request: QueryRequest
        do {
            request = try QueryRequest(form: bytes)
        } catch {
            return failure(CloudWatchError.Code.missingParameter.rawValue, error.message, status: 400, xmlns: CloudWatchAPI.xmlNamespace)
        }
        switch request.version {
        case SNSAPI.apiVersion?:
            do {
                let out = try await sns.handle(action: request.action, parameters: request.parameters, traceHeader: traceHeader)
                return xml(QueryResponse.success(action: request.action, result: out, requestID: requestID, xmlns: SNSAPI.xmlNamespace,
                                                 mapMembers: SNSAPI.mapMembers), status: .ok, requestID: requestID)
            } catch {
                return failure(error.code.rawValue, error.message, status: error.code.status, xmlns: SNSAPI.xmlNamespace)
            }
        case nil, CloudWatchAPI.apiVersion?:
            do {
                let out = try await cloudWatch.handle(operation: request.action, body: request.parameters)
                return xml(QueryResponse.success(action: request.action, result: out, requestID: requestID, xmlns: CloudWatchAPI.xmlNamespace,
                                                 mapMembers: CloudWatchAPI.mapMembers), status: .ok, requestID: requestID)
            } catch {
                return failure(error.code.rawValue, error.message, status: error.code.status, xmlns: CloudWatchAPI.xmlNamespace)
            }
        case let version?:
            return failure(CloudWatchError.Code.invalidParameterValue.rawValue,
                           "Version \(version) is not served; Skylens speaks CloudWatch \(CloudWatchAPI.apiVersion) and SNS \(SNSAPI.apiVersion).",
                           status: 400, xmlns: CloudWatchAPI.xmlNamespace)
        }
    }

    /// A GET link's query string as an SNS query-protocol form (the action fixed by the route).
    static func queryForm(_ request: Request, action: String) -> String {
        let query = request.uri.query ?? ""
        let kept = query.split(separator: "&").filter { !$0.hasPrefix("Action=") && !$0.hasPrefix("Version=") }
        return (["Action=\(action)", "Version=\(SNSAPI.apiVersion)"] + kept.map(String.init)).joined(separator: "&")
    }

    static func xml(_ bytes: [UInt8], status: HTTPResponse.Status, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/xml"
        headers[requestIDHeader] = requestID
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func cbor(_ bytes: [UInt8], status: HTTPResponse.Status, requestID: String, queryError: String?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/cbor"
        headers[smithyProtocolHeader] = "rpc-v2-cbor"
        headers[requestIDHeader] = requestID
        if let queryError { headers[queryErrorHeader] = queryError }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status, requestID: String, contentType: String = amzJSON11) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[requestIDHeader] = requestID
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
