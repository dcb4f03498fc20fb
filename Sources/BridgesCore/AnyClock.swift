/// A clock of any kind behind one concrete type, so that the core, the server and the
/// connectors can be handed the real clock in production and a manual one in tests, without
/// becoming generic over it. Its instants count from the moment it was wrapped.
public struct AnyClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        fileprivate var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleepFor: @Sendable (Duration) async throws -> Void
    private let resolution: Duration

    public init<Wrapped: Clock>(_ clock: Wrapped) where Wrapped.Duration == Duration {
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        sleepFor = { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) }
        resolution = clock.minimumResolution
    }

    /// The monotonic system clock, for production.
    public static let continuous = AnyClock(ContinuousClock())

    public var now: Instant { Instant(offset: elapsed()) }
    public var minimumResolution: Duration { resolution }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await sleepFor(now.duration(to: deadline))
    }
}
