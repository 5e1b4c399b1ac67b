import AsyncHTTPClient
import Foundation
import NIOCore

/// The events of a live-tail response: newline-delimited JSON split and decoded as the bytes arrive.
package struct TailEvents: AsyncSequence, Sendable {
    package typealias Element = LogsModels.FilteredEvent
    let body: HTTPClientResponse.Body

    package func makeAsyncIterator() -> Iterator {
        Iterator(chunks: body.makeAsyncIterator())
    }

    package struct Iterator: AsyncIteratorProtocol {
        var chunks: HTTPClientResponse.Body.AsyncIterator
        var pending: [UInt8] = []
        var start = 0
        let decoder = JSONDecoder()

        package mutating func next() async throws -> LogsModels.FilteredEvent? {
            while true {
                while let newline = pending[start...].firstIndex(of: 0x0A) {
                    let line = pending[start..<newline]
                    start = newline + 1
                    if line.isEmpty { continue }
                    return try decoder.decode(LogsModels.FilteredEvent.self, from: Data(line))
                }
                pending.removeFirst(start)
                start = 0
                guard let chunk = try await chunks.next() else { return nil }
                pending.append(contentsOf: chunk.readableBytesView)
            }
        }
    }
}
