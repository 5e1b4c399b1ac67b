import ArgumentParser
import Foundation
import SkylensClient
import SkylensCore
import SkylensWire

/// `skylens patterns …`: check a filter pattern and dry-run it over lines, offline.
struct Patterns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check CloudWatch filter patterns and try them on sample lines, without a collector.",
        subcommands: [Check.self, Test.self]
    )

    /// Parses `text`, or prints the error with a caret under its position and exits with status 2.
    static func parseOrExit(_ text: String) throws -> FilterPattern {
        do {
            return try FilterPattern.parse(text)
        } catch {
            let caret = String(repeating: " ", count: min(error.position, text.count)) + "^"
            FileHandle.standardError.write(Data("skylens: invalid filter pattern: \(error.message)\n  \(text)\n  \(caret)\n".utf8))
            throw ExitCode(2)
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a pattern and print how it was understood (exit status 2 when it is invalid).")
        @Argument(help: "The filter pattern, e.g. '{ $.level = \"ERROR\" }'.") var pattern: String

        func run() async throws {
            Output.line(try Patterns.parseOrExit(pattern).prettyDescription)
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a pattern over lines: each line is reported as matched (with the values extracted) or not (with the part of the pattern that failed).",
            discussion: "Exit status: 0 when some line matched, 1 when none did, 2 when the pattern is invalid.")
        @Argument(help: "The filter pattern.") var pattern: String
        @Argument(help: "A file of log lines, one event a line; - or nothing for standard input.") var file: String?
        @Option(help: "text (default) or json (one object a line).") var output: OutputFormat = .text
        @Flag(help: "Print only the lines that match.") var onlyMatches = false

        func run() async throws {
            let matcher = try Patterns.parseOrExit(pattern).compile()
            let handle: FileHandle
            if let file, file != "-" {
                guard let h = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot open \(file)") }
                handle = h
            } else {
                handle = FileHandle.standardInput
            }
            var number = 0
            var matched = 0
            for await line in LineReader.lines(handle) {
                number += 1
                let outcome = matcher.evaluate(line)
                if outcome.matched { matched += 1 }
                if onlyMatches && !outcome.matched { continue }
                Output.line(Self.render(number: number, line: line, outcome: outcome, format: output))
            }
            if output == .text { Output.line("\(matched) of \(number) line(s) matched") }
            if matched == 0 { throw ExitCode(1) }
        }

        static func render(number: Int, line: String, outcome: PatternOutcome, format: OutputFormat) -> String {
            switch format {
            case .json:
                var w = JSONWriter()
                w.beginObject()
                w.field("eventNumber", number)
                w.field("eventMessage", line)
                w.field("matched", outcome.matched)
                w.key("extractedValues")
                w.beginObject()
                for v in outcome.extracted { w.field(v.name, v.value) }
                w.endObject()
                w.fieldIfPresent("reason", outcome.reason)
                w.endObject()
                return String(decoding: w.bytes, as: UTF8.self)
            case .text:
                if outcome.matched {
                    let values = outcome.extracted.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                    return "match     \(number): \(line)" + (values.isEmpty ? "" : "\n          \(values)")
                }
                return "no match  \(number): \(line)\n          because \(outcome.reason ?? "the pattern does not hold")"
            }
        }
    }
}
