import BridgesCore
import Foundation

/// One signed-in browser: the cookie carries `id`, and only this server knows what it stands for.
public struct PageSession: Sendable, Hashable {
    public var id: String
    public var identity: PageIdentity
    /// Every form of a signed-in page carries this, so a form sent from another site is refused.
    public var csrfToken: String
}

/// A short message for the next page a person sees, after a redirect.
struct Flash: Sendable, Hashable {
    enum Kind: String, Sendable { case info, error }
    var kind: Kind
    var text: String
}

/// The page's sessions, in memory: they end when idle for `idleTimeout`, after `maxAge` in any
/// case, on sign-out, and with the process. Several instances behind one address would need
/// them in the database instead.
public actor PageSessions {
    private struct Entry {
        var session: PageSession
        var started: AnyClock.Instant
        var lastSeen: AnyClock.Instant
        var flash: Flash?
    }

    private let clock: AnyClock
    private let idleTimeout: Duration
    private let maxAge: Duration
    private var entries: [String: Entry] = [:]

    public init(clock: AnyClock = .continuous, idleTimeout: Duration = .seconds(3600), maxAge: Duration = .seconds(12 * 3600)) {
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.maxAge = maxAge
    }

    public func create(for identity: PageIdentity) -> PageSession {
        sweep()
        let session = PageSession(id: PageSecrets.random(), identity: identity, csrfToken: PageSecrets.random())
        let now = clock.now
        entries[session.id] = Entry(session: session, started: now, lastSeen: now)
        return session
    }

    /// The live session with this ID, which counts as activity; `nil` for an unknown or expired one.
    public func session(_ id: String) -> PageSession? {
        guard var entry = entries[id] else { return nil }
        let now = clock.now
        guard !isExpired(entry, now: now) else {
            entries[id] = nil
            return nil
        }
        entry.lastSeen = now
        entries[id] = entry
        return entry.session
    }

    public func end(_ id: String) {
        entries[id] = nil
    }

    public var count: Int { entries.count }

    func setFlash(_ flash: Flash, for id: String) {
        entries[id]?.flash = flash
    }

    /// The message left for this session, once.
    func takeFlash(for id: String) -> Flash? {
        defer { entries[id]?.flash = nil }
        return entries[id]?.flash
    }

    private func isExpired(_ entry: Entry, now: AnyClock.Instant) -> Bool {
        entry.lastSeen.duration(to: now) > idleTimeout || entry.started.duration(to: now) > maxAge
    }

    /// Forgets expired sessions, so sessions nobody signs out of do not pile up.
    private func sweep() {
        let now = clock.now
        entries = entries.filter { !isExpired($0.value, now: now) }
    }
}

/// Random values for cookies and form tokens: 256 bits, URL- and cookie-safe.
enum PageSecrets {
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares without an early exit, so timing says nothing about where two tokens differ.
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
