/// Tunables of the session state machine.
public struct SessionPolicy: Sendable {
    /// A session nobody touches for this long ends `failed` with `session_expired`.
    public var idleTimeout: Duration
    /// How long a `display_and_wait` submit blocks before answering with the unchanged session;
    /// well under the official SDKs' 30 s read timeout so they never retry a wait.
    public var displayWait: Duration
    /// How long a finished session stays in memory (to answer re-sent submits with its state)
    /// before only its stored record remains.
    public var finishedRetention: Duration

    /// Live (unfinished) sessions allowed per bridge, per user and in all; past them, creating
    /// one is refused. The per-user cap keeps one user from starving the others.
    public var maxLivePerBridge: Int
    public var maxLivePerUser: Int
    public var maxLiveTotal: Int

    public init(
        idleTimeout: Duration = .seconds(600), displayWait: Duration = .seconds(20),
        finishedRetention: Duration = .seconds(60), maxLivePerBridge: Int = 32, maxLivePerUser: Int = 16,
        maxLiveTotal: Int = 256
    ) {
        self.idleTimeout = idleTimeout
        self.displayWait = displayWait
        self.finishedRetention = finishedRetention
        self.maxLivePerBridge = maxLivePerBridge
        self.maxLivePerUser = maxLivePerUser
        self.maxLiveTotal = maxLiveTotal
    }
}
