import BridgesCore
import Foundation

/// One login process on a bridge (`login_id` upstream). Calls arrive one at a time from the
/// core's session; the actor keeps the process ID and the current step's transaction ID.
actor MautrixLoginProcess: LoginProcess {
    private let connector: MautrixConnector
    private let processID: String
    private var current: Provisioning.Step
    private var finished = false

    init(connector: MautrixConnector, first: Provisioning.Step) {
        self.connector = connector
        self.processID = first.loginID ?? ""
        self.current = first
    }

    func submit(_ submission: StepSubmission, to step: Step) async throws -> Step {
        try await advance(body: submission.fields, longPoll: false)
    }

    func waitForNextStep(after step: Step) async throws -> Step {
        // Newer bridges (those that send txn_id) keep a step running when its long-poll drops, and
        // re-attach a poll that names the same transaction: a proxy closing an idle connection
        // need not end the login. Older bridges end the login with the poll, so there is nothing
        // to re-attach to.
        var attempt = 0
        while true {
            do {
                return try await advance(body: nil, longPoll: true)
            } catch let error as BridgesError where current.txnID != nil && attempt < 2 && error.code == "bridge_unreachable" {
                attempt += 1
                finished = false
                try await Task.sleep(for: .milliseconds(500 * attempt))
            }
        }
    }

    func cancel() async {
        guard !finished else { return }
        finished = true
        // Only newer bridges (v0.28.1+) have a cancel endpoint; on older ones the process ends
        // when the core drops its long-poll, or is forgotten by the bridge.
        let _: JSONValue? = try? await connector.client.post(["login", "cancel", processID])
    }

    private func advance(body: [String: String]?, longPoll: Bool) async throws -> Step {
        var query: [String: String] = [:]
        if let txnID = current.txnID { query["txn_id"] = txnID }
        let next: Provisioning.Step
        do {
            next = try await connector.client.post(
                ["login", "step", processID, current.stepID, current.type], query: query, body: body, longPoll: longPoll)
        } catch let ProvisioningFailure.status(status, error) where status != 401 && status != 403 {
            finished = true
            throw Self.loginFailure(status: status, error)
        } catch let failure as ProvisioningFailure {
            finished = true
            throw connector.upstreamError(failure)
        }
        current = next
        let step = try MautrixMapping.step(next)
        if case .complete = step.content {
            finished = true
            await connector.invalidateLogins()
        }
        return step
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
