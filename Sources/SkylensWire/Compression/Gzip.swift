import CZlib

/// gzip (RFC 1952) bodies: botocore compresses PutMetricData requests over 10 KiB (`Content-Encoding: gzip`).
package enum Gzip {
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// The maximum size a body may inflate to.
    package static let maxInflatedBytes = 64 * 1_048_576

    package static func decompress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "cannot start gzip decompression")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var input = input
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.avail_out))])
                }
            } while status == Z_OK && output.count <= maxInflatedBytes && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_STREAM_END else {
            throw Failure(description: output.count > maxInflatedBytes ? "gzip body inflates past \(maxInflatedBytes) bytes" : "invalid gzip body (zlib status \(status))")
        }
        return output
    }
}
