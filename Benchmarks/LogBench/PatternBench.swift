import ArgumentParser
import Foundation
import SkylensCore

/// Filter-pattern throughput over the corpus held in memory, on one core: the matcher alone, no I/O.
struct PatternBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "patterns",
                                                    abstract: "Events/s of the filter-pattern matcher, per core.")

    @Option(help: "Directory holding corpus.log and corpus.ts (from gen_corpus.py).") var corpus: String
    @Option(help: "Passes over the corpus per pattern (the best is reported).") var passes = 3

    static let patterns: [(String, String)] = [
        ("term", "ERROR"),
        ("OR of three terms", "?Timeout ?ConditionalCheckFailedException ?throttling"),
        ("JSON equality", "{ $.level = \"ERROR\" }"),
        ("JSON numeric comparison", "{ $.duration_ms > 100 }"),
        ("space-delimited", "[ip, ident, user, ts, request, status = 5*, bytes, referer, agent, latency > 0.5]"),
        ("regex", "%Task timed out|Conditional[A-Z][a-z]+%"),
    ]

    func run() throws {
        let (_, lines) = try Corpus.load(corpus)
        // One arena, like a decoded block: messages back to back, with their offsets.
        var arena: [UInt8] = []
        var offsets = [0]
        for line in lines {
            arena.append(contentsOf: line)
            offsets.append(arena.count)
        }
        print("corpus: \(lines.count) events in memory, one core")
        for (name, text) in Self.patterns {
            let matcher = try FilterPattern.parse(text).compile()
            var best = Double.infinity
            var matched = 0
            for _ in 0..<passes {
                let start = ContinuousClock.now
                matched = arena.withUnsafeBytes { buffer in
                    var n = 0
                    for i in 0..<lines.count
                    where matcher.matches(UnsafeRawBufferPointer(rebasing: buffer[offsets[i]..<offsets[i + 1]])) {
                        n += 1
                    }
                    return n
                }
                best = min(best, LoadGenerator.seconds(ContinuousClock.now - start))
            }
            print(Self.row(name, text, "\(matched) matches", Double(lines.count) / best))
        }
        // How the store scans a single term: one memmem over a whole block's messages, hits mapped to events.
        let term = Array("ERROR".utf8)
        var best = Double.infinity
        for _ in 0..<passes {
            let start = ContinuousClock.now
            _ = arena.withUnsafeBytes { ByteSearch.firstIndex($0, Array("NO_SUCH_TERM".utf8)) }
            _ = arena.withUnsafeBytes { buffer -> Int in
                var from = 0, hits = 0
                while let hit = ByteSearch.firstIndex(UnsafeRawBufferPointer(rebasing: buffer[from...]), term) {
                    hits += 1
                    from += hit + 1
                }
                return hits
            }
            best = min(best, LoadGenerator.seconds(ContinuousClock.now - start) / 2)
        }
        print(Self.row("term, whole-buffer search", "ERROR", "", Double(lines.count) / best))
    }

    static func row(_ name: String, _ pattern: String, _ matches: String, _ rate: Double) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        return pad(name, 27) + pad(pattern, 84) + pad(matches, 16) + String(format: "%6.2f M events/s", rate / 1e6)
    }

}
