import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkylensCore
import SkylensWire

/// A typed client of one collector: the CloudWatch Logs API (AWS JSON 1.1) and the collector's own endpoints.
package struct CollectorClient: Sendable {
    package let endpoint: String
    private let http: HTTPClient
    private let timeout: TimeAmount

    /// `endpoint` is a base URL such as `http://127.0.0.1:4566`; `timeout` bounds each API call.
    package init(endpoint: String, http: HTTPClient = .shared, timeout: TimeAmount = .seconds(60)) {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.http = http
        self.timeout = timeout
    }

    // MARK: the AWS API

    /// Calls a CloudWatch Logs operation with a JSON body and returns the response body.
    package func logs(_ operation: String, _ body: [UInt8]) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
        request.headers.add(name: "X-Amz-Target", value: "Logs_20140328.\(operation)")
        request.body = .bytes(body)
        let response = try await send(request)
        let bytes = try await collect(response)
        guard response.status == .ok else { throw Self.awsError(status: Int(response.status.code), body: bytes) }
        return bytes
    }

    /// A JSON object made by `fields`.
    static func object(_ fields: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        fields(&w)
        w.endObject()
        return w.bytes
    }

    /// Calls `operation` with an encoded JSON object and decodes the answer as `T`.
    package func logs<T: Decodable>(_ operation: String, _ fields: (inout JSONWriter) -> Void, as: T.Type) async throws -> T {
        let bytes = try await logs(operation, Self.object(fields))
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw ClientError(.badResponse, "\(operation): \(error)")
        }
    }

    /// Creates the log group and stream unless they exist.
    package func ensureStream(group: String, stream: String) async throws {
        let calls: [(String, (inout JSONWriter) -> Void)] = [
            ("CreateLogGroup", { $0.field("logGroupName", group) }),
            ("CreateLogStream", { $0.field("logGroupName", group); $0.field("logStreamName", stream) }),
        ]
        for (operation, fields) in calls {
            do {
                _ = try await logs(operation, Self.object(fields))
            } catch let error as ClientError where error.awsCode == "ResourceAlreadyExistsException" {
                continue
            }
        }
    }

    /// Sends one PutLogEvents batch.
    package func putLogEvents(group: String, stream: String, events: [(timestamp: Int64, message: String)]) async throws -> LogsModels.PutLogEvents {
        try await logs("PutLogEvents", { w in
            w.field("logGroupName", group)
            w.field("logStreamName", stream)
            w.key("logEvents")
            w.beginArray()
            for e in events {
                w.beginObject()
                w.field("timestamp", e.timestamp)
                w.field("message", e.message)
                w.endObject()
            }
            w.endArray()
        }, as: LogsModels.PutLogEvents.self)
    }

    /// Calls a CloudWatch operation in AWS JSON 1.0 and returns the parsed answer.
    package func cloudWatch(_ operation: String, _ fields: (inout JSONWriter) -> Void) async throws -> JSONValue {
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-amz-json-1.0")
        request.headers.add(name: "X-Amz-Target", value: "GraniteServiceVersion20100801.\(operation)")
        request.body = .bytes(Self.object(fields))
        let response = try await send(request)
        let bytes = try await collect(response)
        guard response.status == .ok else {
            let code = response.headers.first(name: "x-amzn-query-error")?.split(separator: ";").first.map(String.init)
            var error = Self.awsError(status: Int(response.status.code), body: bytes)
            if let code { error.kind = .aws(code: code, status: Int(response.status.code)) }
            throw error
        }
        do {
            return try bytes.withUnsafeBytes { try JSONValue.parse($0) }
        } catch {
            throw ClientError(.badResponse, "\(operation): \(error)")
        }
    }

    /// Calls an X-Ray operation (rest-json: `POST <path>` with a JSON body) and returns the parsed answer.
    package func xray(_ path: String, _ fields: (inout JSONWriter) -> Void) async throws -> WireValue {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(Self.object(fields))
        let response = try await send(request)
        let bytes = try await collect(response)
        guard response.status == .ok else {
            // rest-json: the code in x-amzn-ErrorType, the text in the body's "message".
            if let code = response.headers.first(name: "x-amzn-ErrorType"),
               let message = (try? WireValue.parseJSON(bytes))?["message"]?.string {
                throw ClientError(.aws(code: code, status: Int(response.status.code)), message)
            }
            throw Self.awsError(status: Int(response.status.code), body: bytes)
        }
        do {
            return try WireValue.parseJSON(bytes)
        } catch {
            throw ClientError(.badResponse, "\(path): \(error)")
        }
    }

    // MARK: the collector's own endpoints

    /// `GET /_skylens/traces/<id>/logs`: the log lines of a trace.
    package func traceLogs(_ traceID: String) async throws -> WireValue {
        let response = try await send(HTTPClientRequest(url: endpoint + "/_skylens/traces/\(traceID)/logs"))
        let bytes = try await collect(response)
        guard response.status == .ok, let answer = try? WireValue.parseJSON(bytes) else {
            throw Self.awsError(status: Int(response.status.code), body: bytes)
        }
        return answer
    }

    /// `GET /_skylens/health`.
    package func health() async throws -> [String: String] {
        let response = try await send(HTTPClientRequest(url: endpoint + "/_skylens/health"))
        let bytes = try await collect(response)
        guard response.status == .ok, let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ClientError(.badResponse, "health check answered \(response.status.code)")
        }
        return object.mapValues { "\($0)" }
    }

    /// `GET /_skylens/dlq`: the deliveries in the dead-letter queue.
    package func deadLetters() async throws -> JSONValue {
        let response = try await send(HTTPClientRequest(url: endpoint + "/_skylens/dlq"))
        let bytes = try await collect(response)
        guard response.status == .ok, let answer = try? bytes.withUnsafeBytes({ try JSONValue.parse($0) }) else {
            throw ClientError(.badResponse, "the dead-letter queue answered \(response.status.code)")
        }
        return answer
    }

    /// `POST /_skylens/dlq/replay`: puts dead letters (all, or those of `ids`) back in the outbox; returns how many.
    package func replayDeadLetters(ids: [Int64]) async throws -> Int {
        var request = HTTPClientRequest(url: endpoint + "/_skylens/dlq/replay" + (ids.isEmpty ? "" : "?" + ids.map { "id=\($0)" }.joined(separator: "&")))
        request.method = .POST
        let response = try await send(request)
        let bytes = try await collect(response)
        guard response.status == .ok, let answer = try? bytes.withUnsafeBytes({ try JSONValue.parse($0) }),
              let replayed = answer["replayed"]?.number else {
            throw ClientError(.badResponse, "replaying dead letters answered \(response.status.code)")
        }
        return Int(replayed)
    }

    /// Streams the live tail of `group`: the stored events since `since`, then (with `follow`) each new event as it
    /// is committed. The sequence ends when the collector closes the stream.
    package func tail(group: String, pattern: String?, since: Int64?, follow: Bool) async throws -> TailEvents {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "group", value: group), URLQueryItem(name: "follow", value: follow ? "true" : "false")]
        if let pattern { components.queryItems?.append(URLQueryItem(name: "pattern", value: pattern)) }
        if let since { components.queryItems?.append(URLQueryItem(name: "since", value: String(since))) }
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        let response = try await send(HTTPClientRequest(url: endpoint + "/_skylens/tail?" + query), timeout: .hours(24 * 365))
        guard response.status == .ok else {
            throw Self.awsError(status: Int(response.status.code), body: try await collect(response))
        }
        return TailEvents(body: response.body)
    }

    // MARK: plumbing

    private func send(_ request: HTTPClientRequest, timeout: TimeAmount? = nil) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: timeout ?? self.timeout)
        } catch {
            throw ClientError(.unreachable, "cannot reach the Skylens collector at \(endpoint) (\(error)). Is `skylens serve` running? Set --endpoint or SKYLENS_ENDPOINT to point elsewhere.")
        }
    }

    private func collect(_ response: HTTPClientResponse) async throws -> [UInt8] {
        var buffer = try await response.body.collect(upTo: 64 * 1_048_576)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    static func awsError(status: Int, body: [UInt8]) -> ClientError {
        if let decoded = try? JSONDecoder().decode(LogsModels.AWSErrorBody.self, from: Data(body)), let code = decoded.__type {
            return ClientError(.aws(code: code, status: status), decoded.message ?? decoded.Message ?? "")
        }
        return ClientError(.aws(code: "HTTP\(status)", status: status), String(decoding: body.prefix(500), as: UTF8.self))
    }
}
