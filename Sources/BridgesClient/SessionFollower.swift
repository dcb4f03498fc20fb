import BridgesAPI

/// Follows one login session through its `login-session.updated` events, so a login waiting on
/// a display learns of the next step the moment it comes instead of asking the server again.
struct SessionFollower {
    private var iterator: AsyncThrowingStream<EventFeedItem, any Error>.AsyncIterator
    private let sessions: BridgesClient.LoginSessions
    private let bridgeID: String
    private let sessionID: String

    init(events: EventSource, sessions: BridgesClient.LoginSessions, bridgeID: String, sessionID: String) {
        iterator = events.feed(bridgeIDs: [], loginSessionIDs: [sessionID]).makeAsyncIterator()
        self.sessions = sessions
        self.bridgeID = bridgeID
        self.sessionID = sessionID
    }

    /// The session once it differs from `current`, or `nil` when events cannot be had (no
    /// `/v1/ws`, or the connection keeps failing): the caller falls back to polling.
    mutating func next(after current: LoginSession) async throws -> LoginSession? {
        while true {
            let item: EventFeedItem?
            do {
                item = try await iterator.next()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                return nil
            }
            switch item {
            case nil:
                return nil
            case .subscribed:
                // A change between the last answer and this subscription sent no event we could see.
                let fresh = try await sessions.retrieve(sessionID, bridgeID: bridgeID)
                if fresh.hasMoved(from: current) { return fresh }
            case .event(.loginSession_updated(let event)):
                if event.data.loginSessionID == sessionID, event.data.hasMoved(from: current) { return event.data }
            case .event:
                continue
            }
        }
    }
}

extension LoginSession {
    /// Whether this state is news to someone who saw `other`: a new status or a new step (a
    /// refreshed QR code comes with a new step ID).
    func hasMoved(from other: LoginSession) -> Bool {
        status != other.status || currentStep?.stepID != other.currentStep?.stepID
    }
}
