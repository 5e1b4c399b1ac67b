import Logging
import ServiceLifecycle
import SkylensCore

/// Seals hot events into compressed blocks, flushes the metric journal into its buckets and the trace index's gathered
/// entries into its posting lists, and sweeps log, metric and trace data past retention, on an injected clock.
package struct LogMaintenanceService<C: Clock>: Service where C.Duration == Duration {
    let store: any LogStore
    let metrics: (any MetricStore)?
    let traces: (any TraceStore)?
    /// How long traces are kept (X-Ray keeps them 30 days).
    let traceRetention: Duration
    let clock: C
    let wallClock: any WallClock
    let interval: Duration
    let sealAge: Duration
    let retentionInterval: Duration
    let logger: Logger

    package init(store: any LogStore, metrics: (any MetricStore)? = nil, traces: (any TraceStore)? = nil,
                 traceRetention: Duration = .seconds(30 * 86_400), clock: C, wallClock: any WallClock, interval: Duration,
                 sealAge: Duration, retentionInterval: Duration, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.traces = traces
        self.traceRetention = traceRetention
        self.clock = clock
        self.wallClock = wallClock
        self.interval = interval
        self.sealAge = sealAge
        self.retentionInterval = retentionInterval
        self.logger = logger
    }

    package func run() async throws {
        var sinceSweep = Duration.zero
        await runEvery(interval, on: clock, startingNow: false) {
            sinceSweep += interval
            await tick(sweep: sinceSweep >= retentionInterval)
            if sinceSweep >= retentionInterval { sinceSweep = .zero }
        }
    }

    /// One round of work: seal what is old enough, and sweep when asked.
    package func tick(sweep: Bool) async {
        let now = wallClock.nowMillis()
        do {
            _ = try await store.sealHotEvents(olderThan: now - sealAge.milliseconds)
            try await metrics?.flush()
            try await traces?.flushIndex()
            if sweep {
                let removed = try await store.sweepExpired(now: now)
                if removed > 0 { logger.info("retention removed events", metadata: ["events": "\(removed)"]) }
                if let metrics {
                    let buckets = try await metrics.sweepExpired(now: now)
                    if buckets > 0 { logger.info("metric retention rolled up or removed buckets", metadata: ["buckets": "\(buckets)"]) }
                }
                if let traces {
                    let removed = try await traces.deleteTraces(before: Double(now - traceRetention.milliseconds) / 1000)
                    if removed > 0 { logger.info("trace retention removed traces", metadata: ["traces": "\(removed)"]) }
                }
            }
        } catch {
            logger.error("log maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
