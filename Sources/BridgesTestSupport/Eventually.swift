/// Waits for a condition that something else makes true, checking often; gives up (returning
/// `false`) only after a bound far beyond any normal wait, so a loaded machine is only slower,
/// never failing.
public func eventually(
    within attempts: Int = 30_000, _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    for _ in 0..<attempts {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return try await condition()
}
