import ArgumentParser
import Foundation
import SkylensClient

/// `skylens run`: runs a process and ships its output as log events.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command and ship every line of its stdout and stderr to a log group.",
        discussion: "Example: skylens run --group /aws/lambda/orders -- python3 handler.py")

    @OptionGroup var options: ClientOptions
    @Option(help: "Log group name (created if needed).") var group: String
    @Option(help: "Log stream name (default: YYYY/MM/DD/[run]<random>, like Lambda's).") var stream: String?
    @Flag(help: "Do not echo the command's output to this terminal.") var quiet = false
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after --, e.g. skylens run --group G -- ./handler") }
    }

    func run() async throws {
        var status: Int32 = 0
        try await reportingErrors {
            let streamName = stream ?? Self.defaultStreamName()
            let shipper = try await LogShipping.start(client: options.client, group: group, stream: streamName)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = command
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let started = Date()
            do {
                try process.run()
            } catch {
                throw ValidationError("cannot start \(command[0]): \(error)")
            }
            let lines = LineReader.lines([
                (out.fileHandleForReading, quiet ? nil : FileHandle.standardOutput),
                (err.fileHandleForReading, quiet ? nil : FileHandle.standardError),
            ])
            try await LogShipping.ship(lines, into: shipper)
            process.waitUntilExit()
            let seconds = Date().timeIntervalSince(started)
            let how = process.terminationReason == .uncaughtSignal
                ? "was terminated by signal \(process.terminationStatus)"
                : "exited with status \(process.terminationStatus)"
            try await shipper.add("[skylens] \(command.joined(separator: " ")) \(how) after \(String(format: "%.3f", seconds)) s")
            try await shipper.flush()
            status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }
        if status != 0 { throw ExitCode(status) }
    }

    static func defaultStreamName() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy/MM/dd"
        f.timeZone = TimeZone(identifier: "UTC")
        let hex = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return "\(f.string(from: Date()))/[run]\(hex)"
    }
}
