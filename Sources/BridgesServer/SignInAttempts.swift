import BridgesCore

/// Failed sign-in attempts per key (a user ID, a client address) in a sliding window: past the
/// limit, more attempts are refused until the oldest failure leaves the window. Passwords are
/// guessed by trying; this makes trying slow, for one account and from one place.
actor SignInAttempts {
    private let window: Duration
    private let clock: AnyClock
    private var failures: [String: [AnyClock.Instant]] = [:]
    private var lastSweep: AnyClock.Instant

    init(window: Duration = .seconds(900), clock: AnyClock) {
        self.window = window
        self.clock = clock
        lastSweep = clock.now
    }

    /// Seconds to wait before the next attempt may be made for `key`, or `nil` when it may be made now.
    func wait(for key: String, limit: Int) -> Int? {
        let now = clock.now
        let recent = prune(key, now: now)
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        let remaining = window - oldest.duration(to: now)
        return max(1, Int(remaining.components.seconds) + (remaining.components.attoseconds > 0 ? 1 : 0))
    }

    func recordFailure(for key: String) {
        let now = clock.now
        failures[key, default: []].append(now)
        sweep(now)
    }

    func clear(_ key: String) {
        failures[key] = nil
    }

    private func prune(_ key: String, now: AnyClock.Instant) -> [AnyClock.Instant] {
        let recent = (failures[key] ?? []).filter { $0.duration(to: now) < window }
        failures[key] = recent.isEmpty ? nil : recent
        return recent
    }

    /// Keys whose failures all left the window carry nothing; dropping them bounds memory.
    private func sweep(_ now: AnyClock.Instant) {
        guard lastSweep.duration(to: now) > window else { return }
        lastSweep = now
        failures = failures.compactMapValues { times in
            let recent = times.filter { $0.duration(to: now) < window }
            return recent.isEmpty ? nil : recent
        }
    }
}
