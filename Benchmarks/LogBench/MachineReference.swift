import Foundation

/// A fixed piece of CPU work timed just before a benchmark run, so that runs can be compared: this machine's speed moves
/// by up to 1.5× within minutes, and a run's figures move with it. The work does not depend on Skylens's code (sorting
/// the same 200,000 pseudo-random numbers), so its time is comparable across builds too.
enum MachineReference {
    /// Milliseconds to sort 200,000 numbers, the best of three.
    static func milliseconds() -> Double {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let numbers = (0..<200_000).map { _ -> UInt64 in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var best = Double.infinity
        for _ in 0..<3 {
            var copy = numbers
            let t0 = ContinuousClock.now
            copy.sort()
            best = min(best, LoadGenerator.seconds(ContinuousClock.now - t0) * 1000)
            precondition(copy.first! <= copy.last!)
        }
        return best
    }

    /// The line a benchmark prints before its run.
    static var line: String {
        "machine reference: \(String(format: "%.1f", milliseconds())) ms to sort 200,000 numbers (best of three, just before the run; compare runs only at similar references)"
    }

    /// The machine's CPU time so far (all CPUs, in clock ticks) and how much of it the hypervisor took for other guests
    /// ("steal", /proc/stat), or nil where there is no /proc/stat.
    static func cpuTicks() -> (total: Double, steal: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let first = text.split(separator: "\n").first, first.hasPrefix("cpu ") else { return nil }
        // user nice system idle iowait irq softirq steal (guest times are counted in user already).
        let fields = first.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard fields.count == 8 else { return nil }
        return (fields.reduce(0, +), fields[7])
    }

    /// The line a benchmark prints after its run: the share of the machine's CPU time stolen since `start` (a virtual
    /// machine's CPUs run slower, and figures per CPU-second drop, while other guests take its host's time).
    static func stealLine(since start: (total: Double, steal: Double)?) -> String? {
        guard let start, let end = cpuTicks(), end.total > start.total else { return nil }
        return String(format: "machine: %.1f%% of the CPUs' time taken by the hypervisor for other guests (steal) during the run",
                      (end.steal - start.steal) / (end.total - start.total) * 100)
    }
}
