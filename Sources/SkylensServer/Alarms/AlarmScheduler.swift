import Logging
import ServiceLifecycle
import SkylensCore

/// Drives the ``AlarmEngine`` on an injected clock: every `interval` (10 seconds by default, the finest alarm
/// period) it evaluates the alarms that reached a new period boundary or received datapoints.
package struct AlarmScheduler<C: Clock>: Service where C.Duration == Duration {
    let engine: AlarmEngine
    let clock: C
    let wallClock: any WallClock
    let interval: Duration

    package init(engine: AlarmEngine, clock: C, wallClock: any WallClock, interval: Duration) {
        self.engine = engine
        self.clock = clock
        self.wallClock = wallClock
        self.interval = interval
    }

    package func run() async throws {
        await runEvery(interval, on: clock, startingNow: true) { await engine.tick(now: wallClock.nowMillis()) }
    }
}
