import ServiceLifecycle

/// Runs `body` every `interval` on `clock` (first right away when `startingNow`, else after one interval) until the
/// service group shuts down gracefully: the loop of every periodic service.
func runEvery<C: Clock>(_ interval: Duration, on clock: C, startingNow: Bool, _ body: () async -> Void) async where C.Duration == Duration {
    if startingNow { await body() }
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        do {
            try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
        } catch {
            return
        }
        await body()
    }
}
