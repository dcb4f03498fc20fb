import Foundation
import Logging

/// Login sessions: creating one, reading it, submitting its steps and cancelling it.
extension BridgesService {
    public func createSession(
        bridgeID: String, flowID: String?, loginID: String?, accountID: String?, for user: UserID
    ) async throws -> LoginSessionView {
        let connector = try connector(bridgeID, for: user)
        let descriptor = await connector.describe(for: user)
        if let unavailable = descriptor.unavailable { throw BridgesError.bridgeUnavailable(descriptor, unavailable) }
        let logins = try await connector.logins(for: user)
        let target = try reconnectTarget(loginID: loginID, accountID: accountID, in: logins, bridgeID: bridgeID)
        if target == nil, !descriptor.supportsMultipleAccounts, let existing = logins.first {
            throw BridgesError.accountLimitReached(bridge: descriptor, existingLoginID: existing.loginID)
        }
        let flow = try pickFlow(flowID, from: try await connector.loginFlows(for: user), bridgeID: bridgeID)

        try sessions.reserve(bridgeID: bridgeID, user: user, policy: policy)
        let id = Identifiers.make(prefix: "ls_")
        var session = LoginSession(
            id: id, userID: user, bridgeID: bridgeID, flowID: flow.id, loginID: target?.loginID,
            accountID: accountID ?? target?.accounts.first?.accountID, now: Date())
        let started: StartedLogin
        do {
            started = try await connector.startLogin(
                LoginStart(user: user, flowID: flow.id, reconnectLoginID: target?.loginID, sessionID: id))
        } catch let failed as LoginFailed {
            sessions.release(bridgeID: bridgeID, user: user)
            session.status = .failed
            session.error = failed.error
            try await store.saveSession(session.record)
            let view = LoginSessionView(session: session, bridge: descriptor)
            events.publish(.loginSessionUpdated(view), to: user)
            return view
        } catch {
            sessions.release(bridgeID: bridgeID, user: user)
            throw error
        }
        let store = self.store
        let logger = self.logger
        let registry = sessions
        let events = self.events
        let live = LiveLoginSession(
            session: session, connector: connector, started: started, policy: policy, clock: clock,
            logger: logger.with(session: id),
            persist: { record in
                do { try await store.saveSession(record) } catch {
                    logger.error("could not save a login session", metadata: ["session": "\(record.id)", "error": "\(error)"])
                }
            },
            publish: { session in
                events.publish(.loginSessionUpdated(LoginSessionView(session: session, bridge: descriptor)), to: user)
            },
            onFinish: { registry.finished(id) },
            onLoginChanged: { [weak self] in await self?.announceChanges(on: connector, for: user) })
        sessions.insert(live, id: id, bridgeID: bridgeID, user: user)
        await live.begin(with: started.firstStep)
        logger.info("login session started", metadata: ["session": "\(id)", "bridge": "\(bridgeID)", "flow": "\(flow.id)"])
        return LoginSessionView(session: await live.session, bridge: descriptor)
    }

    public func session(bridgeID: String, id: String, for user: UserID) async throws -> LoginSessionView {
        let connector = try connector(bridgeID, for: user)
        if let live = sessions.live(id, bridgeID: bridgeID, user: user) {
            return LoginSessionView(session: await live.touch(), bridge: await connector.describe(for: user))
        }
        var session = LoginSession(record: try await storedSession(bridgeID: bridgeID, id: id, user: user))
        if session.status == .complete, let loginID = session.loginID {
            session.login = try? await connector.logins(for: user).first { $0.loginID == loginID }
        }
        return LoginSessionView(session: session, bridge: await connector.describe(for: user))
    }

    /// Cancels a session. A session that already ended otherwise cannot be cancelled; a re-sent
    /// cancel answers the cancelled session.
    public func cancelSession(bridgeID: String, id: String, for user: UserID) async throws -> LoginSessionView {
        let connector = try connector(bridgeID, for: user)
        if let live = sessions.live(id, bridgeID: bridgeID, user: user) {
            return LoginSessionView(session: try await live.cancel(), bridge: await connector.describe(for: user))
        }
        let record = try await storedSession(bridgeID: bridgeID, id: id, user: user)
        guard record.status == .cancelled else { throw BridgesError.sessionFinished(record.status) }
        return LoginSessionView(session: LoginSession(record: record), bridge: await connector.describe(for: user))
    }

    public func submit(
        bridgeID: String, sessionID: String, stepID: String, _ submission: StepSubmission, for user: UserID
    ) async throws -> LoginSessionView {
        let connector = try connector(bridgeID, for: user)
        guard let live = sessions.live(sessionID, bridgeID: bridgeID, user: user) else {
            // Only the store remembers it, so it ended: answer as the state machine would.
            throw BridgesError.sessionFinished(try await storedSession(bridgeID: bridgeID, id: sessionID, user: user).status)
        }
        let session = try await live.submit(stepID: stepID, submission)
        return LoginSessionView(session: session, bridge: await connector.describe(for: user))
    }

    // MARK: - Helpers

    /// The user's stored session; another user's is answered exactly as a missing one.
    private func storedSession(bridgeID: String, id: String, user: UserID) async throws -> LoginSessionRecord {
        guard let record = try await store.session(id: id), record.bridgeID == bridgeID, record.userID == user else {
            throw BridgesError.sessionNotFound(id, bridgeID: bridgeID)
        }
        return record
    }

    private func pickFlow(_ flowID: String?, from flows: [LoginFlow], bridgeID: String) throws -> LoginFlow {
        guard let flowID else {
            guard let first = flows.first else { throw BridgesError.noLoginFlows(bridgeID: bridgeID) }
            return first
        }
        guard let match = flows.first(where: { $0.id == flowID }) else {
            throw BridgesError.loginFlowNotFound(flowID, bridgeID: bridgeID, available: flows.map(\.id))
        }
        return match
    }

    private func reconnectTarget(loginID: String?, accountID: String?, in logins: [Login], bridgeID: String) throws -> Login? {
        var target: Login?
        if let loginID {
            guard let login = logins.first(where: { $0.loginID == loginID }) else {
                throw BridgesError.loginNotFound(loginID, bridgeID: bridgeID)
            }
            target = login
        }
        if let accountID {
            guard let login = logins.first(where: { $0.accounts.contains { $0.accountID == accountID } }) else {
                throw BridgesError.accountNotFound(accountID)
            }
            if let target, target.loginID != login.loginID {
                throw BridgesError.accountOfOtherLogin(accountID: accountID, owner: login.loginID, named: target.loginID)
            }
            target = login
        }
        return target
    }
}
