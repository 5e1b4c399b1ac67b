/// The source of "now" for code that stamps data (ingestion times, retention cut-offs).
///
/// The core never reads a clock itself: adapters pass `now` in, taken from the `WallClock` they were given.
package protocol WallClock: Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    func nowMillis() -> Int64
}
