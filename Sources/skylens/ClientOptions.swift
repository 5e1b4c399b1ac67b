import ArgumentParser
import Foundation
import SkylensClient
import SkylensWire

/// Options shared by every command that talks to a running collector.
struct ClientOptions: ParsableArguments {
    @Option(help: "Collector URL (env SKYLENS_ENDPOINT; default http://127.0.0.1:4566).")
    var endpoint: String?

    @Option(help: "text (default) or json (one JSON object per event or per response, for scripts).")
    var output: OutputFormat = .text

    var client: CollectorClient {
        CollectorClient(endpoint: endpoint ?? ProcessInfo.processInfo.environment["SKYLENS_ENDPOINT"] ?? "http://127.0.0.1:4566")
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Runs `body`, turning client errors into a one-line message and exit status 1 instead of a stack of text.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ClientError {
        FileHandle.standardError.write(Data("skylens: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// Writes to standard output without Swift's `print` buffering surprises on pipes.
enum Output {
    static func line(_ text: String) {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
        } catch {
            // The reader went away (`| head`): stop quietly, as command-line tools do on a closed pipe.
            exit(0)
        }
    }

    /// Prints one JSON object on a line (the `--output json` form of every command).
    static func jsonObject(_ fields: (inout JSONWriter) -> Void) {
        var w = JSONWriter()
        w.beginObject()
        fields(&w)
        w.endObject()
        line(String(decoding: w.bytes, as: UTF8.self))
    }
}
