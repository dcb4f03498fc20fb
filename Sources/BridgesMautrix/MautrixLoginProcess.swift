import BridgesCore
import Foundation
import HTTPTransport

/// One login process on a bridge (`login_id` upstream). Calls arrive one at a time from the
/// core's session; the actor keeps the process ID and the current step's transaction ID.
actor MautrixLoginProcess: LoginProcess {
    private let connector: MautrixConnector
    private let user: UserID
    private let processID: String
    private var current: Provisioning.Step
    private var finished = false

    init(connector: MautrixConnector, user: UserID, first: Provisioning.Step) {
        self.connector = connector
        self.user = user
        self.processID = first.loginID ?? ""
        self.current = first
    }

    func submit(_ submission: StepSubmission, to step: Step) async throws -> Step {
        do {
            return try await accept(await post(body: submission.fields, longPoll: false))
        } catch {
            throw flattened(error)
        }
    }

    func waitForNextStep(after step: Step) async throws -> Step {
        // Newer bridges (those that send txn_id) keep a step running when its long-poll drops, and
        // re-attach a poll that names the same transaction: a proxy closing an idle connection
        // need not end the login. Older bridges end the login with the poll, so there is nothing
        // to re-attach to.
        var attempt = 0
        while true {
            do {
                return try await accept(await post(body: nil, longPoll: true))
            } catch ProvisioningFailure.transport(let failure) where failure.isTransient && current.txnID != nil && attempt < 2 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(500 * attempt))
            } catch {
                throw flattened(error)
            }
        }
    }

    func cancel() async {
        guard !finished else { return }
        finished = true
        // Only newer bridges (v0.28.1+) have a cancel endpoint; on older ones the process ends
        // when the core drops its long-poll, or is forgotten by the bridge.
        let _: JSONValue? = try? await connector.client.post(["login", "cancel", processID], for: user)
    }

    /// Sends the current step; a failure comes back as the bridge's own `ProvisioningFailure`, so
    /// the caller can still tell a dropped connection from an answer.
    private func post(body: [String: String]?, longPoll: Bool) async throws -> Provisioning.Step {
        var query: [String: String] = [:]
        if let txnID = current.txnID { query["txn_id"] = txnID }
        return try await connector.client.post(
            ["login", "step", processID, current.stepID, current.type], for: user, query: query, body: body,
            longPoll: longPoll)
    }

    private func accept(_ next: Provisioning.Step) async throws -> Step {
        current = next
        let step = try MautrixMapping.step(next)
        if case .complete = step.content {
            finished = true
            await connector.invalidateLogins(of: user)
        }
        return step
    }

    /// A failed step ends the login: the bridge's errors become the session's, the rest upstream errors.
    private func flattened(_ error: any Error) -> any Error {
        switch error {
        case ProvisioningFailure.status(let status, let matrixError) where status != 401 && status != 403:
            finished = true
            return Self.loginFailure(status: status, matrixError)
        case let failure as ProvisioningFailure:
            finished = true
            return connector.upstreamError(failure, for: user)
        default:
            return error
        }
    }

    /// An error from the bridge ends the login; the session carries the bridge's own code.
    static func loginFailure(status: Int, _ error: Provisioning.Error) -> LoginFailed {
        var details: [String: JSONValue] = ["errcode": .string(error.errcode), "status": .number(Double(status))]
        if let internalError = error.internalError { details["internalError"] = .string(internalError) }
        let message: String
        switch error.errcode {
        case "FI.MAU.BRIDGE.LOGIN_CANCELLED": message = "The bridge cancelled this login."
        case "FI.MAU.BRIDGE.LOGIN_TIMED_OUT": message = "The login timed out on the bridge. Start a new session."
        case "M_NOT_FOUND": message = "The bridge no longer knows this login (\(error.error)). Start a new session."
        default: message = error.internalError.map { "\(error.error): \($0)" } ?? error.error
        }
        return LoginFailed(code: error.errcode, message: message, details: details)
    }
}
