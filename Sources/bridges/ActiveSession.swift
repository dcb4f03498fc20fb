import BridgesClient
import Synchronization

/// The session being run, so an interrupt can cancel it on the server.
final class ActiveSession: Sendable {
    private let current = Mutex<(bridgeID: String, sessionID: String)?>(nil)

    func set(bridgeID: String, sessionID: String) {
        current.withLock { $0 = (bridgeID, sessionID) }
    }

    func cancel(using api: BridgesClient) async {
        guard let (bridgeID, sessionID) = current.withLock({ $0 }) else { return }
        _ = try? await api.bridges.loginSessions.cancel(sessionID, bridgeID: bridgeID)
    }
}
