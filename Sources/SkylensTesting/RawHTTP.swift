import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A response as it came off the wire, for tests that check status codes and headers.
package struct RawResponse: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: [UInt8]

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object.
    package var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

extension TestCollector {
    /// Sends an AWS JSON 1.1 request exactly as given.
    package func post(target: String?, body: String, contentType: String = "application/x-amz-json-1.1",
                      headers: [(String, String)] = []) async throws -> RawResponse {
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let target { request.headers.add(name: "X-Amz-Target", value: target) }
        request.body = .bytes(Array(body.utf8))
        return try await send(request)
    }

    /// Sends a smithy-rpc-v2-cbor request to the CloudWatch service.
    package func postCBOR(operation: String, body: [UInt8]) async throws -> RawResponse {
        var request = HTTPClientRequest(url: endpoint + "/service/GraniteServiceVersion20100801/operation/" + operation)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/cbor")
        request.headers.add(name: "smithy-protocol", value: "rpc-v2-cbor")
        request.body = .bytes(body)
        return try await send(request)
    }

    /// POSTs `body` to a path: one of the collector's own endpoints (`/_skylens/…`), or a rest-json API (X-Ray); on
    /// the HTTP port, or on another of the collector's ports (the X-Ray daemon's TCP side).
    package func post(path: String, body: String, port: Int? = nil) async throws -> RawResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? self.port)" + path)
        request.method = .POST
        request.body = .bytes(Array(body.utf8))
        return try await send(request)
    }

    package func get(_ path: String) async throws -> RawResponse {
        try await send(HTTPClientRequest(url: endpoint + path))
    }

    private func send(_ request: HTTPClientRequest) async throws -> RawResponse {
        let response = try await http.execute(request, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 64 * 1_048_576)
        return RawResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                           body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}
