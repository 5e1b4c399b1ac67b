import ArgumentParser
import Foundation
import Logging
import SkylensServer

/// `skylens serve`: runs the collector.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the collector: every AWS API on one port, data in an embedded SQLite database.")

    @Option(help: "Address to listen on (env SKYLENS_HOST).")
    var host: String?

    @Option(help: "Port for the AWS APIs and the collector's own endpoints (env SKYLENS_PORT).")
    var port: Int?

    @Option(name: .customLong("xray-port"), help: "X-Ray daemon port: UDP segments, TCP sampling and X-Ray API (env SKYLENS_XRAY_PORT; default 2000).")
    var xrayPort: Int?

    @Option(name: .customLong("data-dir"), help: "Directory of the SQLite database (env SKYLENS_DATA_DIR; default ~/.local/share/skylens).")
    var dataDir: String?

    @Option(name: .customLong("rules-dir"), help: "Directory of CloudFormation-style rule files (env SKYLENS_RULES_DIR; default ./rules).")
    var rulesDir: String?

    @Option(help: "Region named in ARNs (env SKYLENS_REGION).")
    var region: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env SKYLENS_LOG_LEVEL).")
    var logLevel: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var config = CollectorConfiguration()
        config.host = host ?? env["SKYLENS_HOST"] ?? config.host
        if let p = port ?? env["SKYLENS_PORT"].flatMap(Int.init) {
            guard (0...65_535).contains(p) else { throw ValidationError("--port must be between 0 and 65535") }
            config.port = p
        }
        if let p = xrayPort ?? env["SKYLENS_XRAY_PORT"].flatMap(Int.init) {
            guard (0...65_535).contains(p) else { throw ValidationError("--xray-port must be between 0 and 65535") }
            config.xrayPort = p
        }
        config.dataDirectory = dataDir ?? env["SKYLENS_DATA_DIR"] ?? config.dataDirectory
        config.rulesDirectory = rulesDir ?? env["SKYLENS_RULES_DIR"] ?? config.rulesDirectory
        config.region = region ?? env["SKYLENS_REGION"] ?? config.region

        var logger = Logger(label: "skylens")
        let levelText = logLevel ?? env["SKYLENS_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("unknown log level '\(levelText)'") }
        logger.logLevel = level

        let collector = try Collector.build(configuration: config, logger: logger)
        logger.info("skylens collector starting", metadata: [
            "address": "\(config.host):\(config.port)", "xray.address": "\(config.host):\(collector.xrayPort)",
            "data.dir": "\(config.dataDirectory)", "region": "\(config.region)",
        ])
        try await collector.run()
        logger.info("skylens collector stopped")
    }
}
