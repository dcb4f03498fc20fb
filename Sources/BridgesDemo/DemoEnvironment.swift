import BridgesCore
import Foundation

public struct DemoOptions: Sendable {
    /// Where clients reach this server; the demo's QR payloads and pages point here. Asked
    /// each time, since a server bound to port 0 learns its port only once it runs.
    public var publicURL: @Sendable () -> String
    /// How often a QR payload is replaced by a new one.
    public var qrRefresh: Duration
    /// How long the `nothing` display waits before the demo "approves on the other device".
    public var nothingDelay: Duration
    /// The clock those waits run on; tests move a manual one.
    public var clock: AnyClock

    public init(
        publicURL: @escaping @Sendable () -> String, qrRefresh: Duration = .seconds(30), nothingDelay: Duration = .seconds(3),
        clock: AnyClock = .continuous
    ) {
        self.publicURL = publicURL
        self.qrRefresh = qrRefresh
        self.nothingDelay = nothingDelay
        self.clock = clock
    }
}

/// What the demo networks share: options, the approval links their pages serve, and the store
/// that keeps their logins across restarts.
public final class DemoEnvironment: Sendable {
    public let options: DemoOptions
    public let approvals: DemoApprovals
    let logins: DemoLogins

    public init(options: DemoOptions, store: any Store) {
        self.options = options
        self.logins = DemoLogins(store: store)
        self.approvals = DemoApprovals(clock: options.clock)
    }

    /// The IDs the demo networks take.
    public static let bridgeIDs: Set<String> = ["demo-password", "demo-messenger", "demo-cookies", "demo-workspace"]

    /// The built-in demo networks, one connector each.
    public func connectors() -> [any BridgeConnector] {
        [
            DemoConnector(network: PasswordNetwork(), environment: self),
            DemoConnector(network: MessengerNetwork(), environment: self),
            DemoConnector(network: CookiesNetwork(), environment: self),
            DemoConnector(network: WorkspaceNetwork(), environment: self),
        ]
    }

    func url(_ path: String) -> String {
        let base = options.publicURL()
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
    }

    func approvalURL(_ token: String) -> String { url("/demo/approve/\(token)") }
}

/// One-time approval links: a QR payload or an "approve" link in a step's instructions. Opening
/// one is the demo's stand-in for a phone that scanned the code or confirmed the sign-in.
public actor DemoApprovals {
    private let clock: AnyClock
    private var live: Set<String> = []
    private var approved: Set<String> = []
    private var waiters: [UUID: (tokens: Set<String>, continuation: CheckedContinuation<Bool, Never>)] = [:]

    init(clock: AnyClock) {
        self.clock = clock
    }

    func issue() -> String {
        let token = Identifiers.make(prefix: "", length: 24)
        live.insert(token)
        return token
    }

    func retire(_ tokens: some Sequence<String>) {
        for token in tokens {
            live.remove(token)
            approved.remove(token)
        }
    }

    /// Marks a link as opened; `false` when the link is unknown or no longer valid.
    public func approve(_ token: String) -> Bool {
        guard live.contains(token) else { return false }
        approved.insert(token)
        for (id, waiter) in waiters where waiter.tokens.contains(token) {
            waiters[id] = nil
            waiter.continuation.resume(returning: true)
        }
        return true
    }

    /// Waits until one of `tokens` is approved (`true`) or `timeout` passes (`false`).
    func waitForApproval(of tokens: Set<String>, timeout: Duration) async throws -> Bool {
        if !approved.isDisjoint(with: tokens) { return true }
        let id = UUID()
        let timer = Task { [weak self, clock] in
            try? await clock.sleep(for: timeout)
            await self?.resume(id, with: false)
        }
        defer { timer.cancel() }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters[id] = (tokens, continuation)
            }
        } onCancel: {
            Task { await self.resume(id, with: false) }
        }
        try Task.checkCancellation()
        return result
    }

    private func resume(_ id: UUID, with result: Bool) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: result)
    }
}
