import Foundation

/// Everything `skylens serve` can be told, with the defaults a user gets when saying nothing.
package struct CollectorConfiguration: Sendable {
    package var host = "127.0.0.1"
    /// 0 picks a free port (tests); the bound port is in `Collector.port` once running.
    package var port = 4566
    /// The X-Ray daemon port (UDP segments; TCP for the SDKs' sampling polls and the X-Ray API); 0 picks a free one.
    package var xrayPort = 2000
    /// How long a document sent to the daemon waits for its trace's root segment at most (``RootlessHold``).
    package var xrayHoldLimit: Duration = .seconds(1)
    package var dataDirectory = CollectorConfiguration.defaultDataDirectory
    package var rulesDirectory = "rules"
    package var region = "us-east-1"
    package var accountID = "000000000000"
    /// zlib level for sealed blocks.
    package var compressionLevel: Int32 = 6
    /// Hot events are sealed into a block once a stream has this many bytes of them...
    package var sealBytes = 65_536
    /// ...or once the oldest is this old.
    package var sealAge: Duration = .seconds(5)
    /// How often the maintenance service looks for hot events to seal.
    package var maintenanceInterval: Duration = .seconds(1)
    /// How often alarms are checked for a new period boundary (10 seconds: the finest alarm period).
    package var alarmInterval: Duration = .seconds(10)
    /// How often the delivery outbox is checked for due deliveries.
    package var deliveryInterval: Duration = .milliseconds(200)
    /// How long one delivery attempt may take (SNS allows 15 seconds).
    package var deliveryTimeout: Duration = .seconds(15)
    /// How long traces are kept.
    package var traceRetention: Duration = .seconds(30 * 86_400)
    /// How often expired data is swept.
    package var retentionInterval: Duration = .seconds(60)

    package init() {}

    /// `$XDG_DATA_HOME/skylens`, else `~/.local/share/skylens`.
    package static var defaultDataDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/skylens" }
        return (env["HOME"] ?? ".") + "/.local/share/skylens"
    }
}

/// The wall clock of the running system.
package struct SystemWallClock: WallClock {
    package init() {}
    package func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

import SkylensCore
