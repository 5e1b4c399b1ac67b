import SkylensCore
import SkylensStorage

/// A wall clock that moves only when told: alarm and retention tests set the time the collector sees.
package final class ManualWallClock: WallClock {
    private let now: LockedState<Int64>

    package init(_ start: Int64) { now = LockedState(start) }

    package func nowMillis() -> Int64 { now.withLock { $0 } }

    package func set(_ millis: Int64) { now.withLock { $0 = millis } }

    package func advance(by millis: Int64) { now.withLock { $0 += millis } }
}
