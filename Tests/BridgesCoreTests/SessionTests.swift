import BridgesCore
import BridgesStore
import Foundation
import Logging
import Synchronization
import Testing

/// A connector whose single flow is scripted by the test: one input step, then whatever
/// `outcome` says; every submit is counted.
final class ScriptedConnector: BridgeConnector {
    enum Outcome: Sendable {
        case complete
        case fail
        case display
    }

    let bridgeID = "scripted"
    let outcome: Outcome
    let submitDelay: Duration
    let submits = Mutex(0)
    let cancels = Mutex(0)
    let loginsMade = Mutex<[Login]>([])
    let displayNext = Mutex<CheckedContinuation<Step, Never>?>(nil)

    init(outcome: Outcome = .complete, submitDelay: Duration = .zero) {
        self.outcome = outcome
        self.submitDelay = submitDelay
    }

    func describe() async -> BridgeDescriptor {
        BridgeDescriptor(id: bridgeID, displayName: "Scripted", type: "scripted", provider: .local, supportsMultipleAccounts: true)
    }
    func loginFlows() async throws -> [LoginFlow] { [LoginFlow(id: "only")] }
    func capabilities() async throws -> JSONValue { [:] }
    func logins() async throws -> [Login] { loginsMade.withLock { $0 } }
    func removeLogin(_ loginID: String, scope: RemoveScope) async throws -> Login? { nil }

    func startLogin(_ request: LoginStart) async throws -> StartedLogin {
        StartedLogin(process: Process(connector: self), firstStep: Self.inputStep)
    }

    static let inputStep = Step(
        id: "input", content: .userInput(fields: [InputField(id: "secret"), InputField(id: "note", optional: true)], attachments: nil))

    /// Ends a pending `display` wait with `step`.
    func finishDisplay(with step: Step) {
        displayNext.withLock { $0?.resume(returning: step); $0 = nil }
    }

    struct Process: LoginProcess {
        let connector: ScriptedConnector

        func submit(_ submission: StepSubmission, to step: Step) async throws -> Step {
            connector.submits.withLock { $0 += 1 }
            try await Task.sleep(for: connector.submitDelay)
            switch connector.outcome {
            case .complete:
                let login = Login(
                    loginID: "login-1", status: .connected, removeScopes: [.allDevices],
                    accounts: [Account(accountID: "acc-1", status: .connected, user: User(id: "u"))])
                connector.loginsMade.withLock { $0 = [login] }
                return Step(id: "done", content: .complete(loginID: "login-1"))
            case .fail:
                throw LoginFailed(code: "nope", message: "Refused.")
            case .display:
                return Step(id: "show", content: .display(.code(data: "1234")))
            }
        }

        func waitForNextStep(after step: Step) async throws -> Step {
            await withCheckedContinuation { continuation in
                connector.displayNext.withLock { $0 = continuation }
            }
        }

        func cancel() async { connector.cancels.withLock { $0 += 1 } }
    }
}

func makeService(
    _ connector: ScriptedConnector, store: (any Store)? = nil, policy: SessionPolicy = SessionPolicy()
) throws -> BridgesService {
    BridgesService(
        connectors: [connector], store: try store ?? SQLiteStore.inMemory(), policy: policy,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}

func stepID(_ session: LoginSession) throws -> String {
    try #require(session.currentStep?.id)
}

@Suite struct SessionStateMachineTests {
    @Test func inputThenComplete() async throws {
        let connector = ScriptedConnector()
        let service = try makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        #expect(created.status == .waitingForInput)
        #expect(created.flowID == "only")
        let done = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"])
        ).session
        #expect(done.status == .complete)
        #expect(done.loginID == "login-1")
        #expect(done.accountID == "acc-1")
        #expect(done.login?.loginID == "login-1")
        #expect(done.currentStep?.kind == .complete)
    }

    @Test func missingRequiredFieldIsRefusedAndChangesNothing() async throws {
        let connector = ScriptedConnector()
        let service = try makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        let error = await #expect(throws: BridgesError.self) {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
                StepSubmission(type: .userInput, fields: ["note": "only the optional one"]))
        }
        #expect(error?.kind == .unprocessable)
        #expect(error?.issues.map(\.path) == [[.key("body"), .key("fields"), .key("secret")]])
        #expect(connector.submits.withLock { $0 } == 0)
        let after = try await service.session(bridgeID: "scripted", id: created.id).session
        #expect(after.status == .waitingForInput)
        #expect(after.currentStep?.id == created.currentStep?.id)
    }

    @Test func concurrentIdenticalSubmitsApplyOnce() async throws {
        let connector = ScriptedConnector(submitDelay: .milliseconds(200))
        let service = try makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        let id = try stepID(created)
        let results = try await withThrowingTaskGroup(of: LoginSessionStatus.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await service.submit(
                        bridgeID: "scripted", sessionID: created.id, stepID: id,
                        StepSubmission(type: .userInput, fields: ["secret": "s"])
                    ).session.status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: .complete, count: 5))
        #expect(connector.submits.withLock { $0 } == 1)
        // And once more, after the fact: still the same answer, still applied once.
        let again = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: id, StepSubmission(type: .userInput, fields: ["secret": "s"]))
        #expect(again.session.status == .complete)
        #expect(connector.submits.withLock { $0 } == 1)
    }

    @Test func connectorFailureEndsTheSession() async throws {
        let connector = ScriptedConnector(outcome: .fail)
        let service = try makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        let failed = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"])
        ).session
        #expect(failed.status == .failed)
        #expect(failed.error == SessionError(code: "nope", message: "Refused."))
        #expect(failed.currentStep == nil)
        #expect(connector.cancels.withLock { $0 } == 1)
        let error = await #expect(throws: BridgesError.self) {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: "input.9", StepSubmission(type: .userInput))
        }
        #expect(error?.code == "login_session_finished")
    }

    @Test func displayWaitReturnsOnChangeOrAtItsBound() async throws {
        let connector = ScriptedConnector(outcome: .display)
        let service = try makeService(connector, policy: SessionPolicy(displayWait: .milliseconds(300)))
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        let shown = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"])
        ).session
        #expect(shown.status == .waitingForDisplay)
        let displayID = try stepID(shown)

        // Nothing happens: the wait ends at its bound with the same step.
        let clock = ContinuousClock()
        let start = clock.now
        let unchanged = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: displayID, StepSubmission(type: .displayAndWait)
        ).session
        #expect(clock.now - start >= .milliseconds(300))
        #expect(unchanged.currentStep?.id == displayID)

        // The connector moves on while a client waits: the wait returns the new step.
        async let waited = service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: displayID, StepSubmission(type: .displayAndWait))
        try await Task.sleep(for: .milliseconds(50))
        connector.finishDisplay(with: Step(id: "show", content: .display(.code(data: "5678"))))
        let refreshed = try await waited.session
        #expect(refreshed.currentStep?.step.content == .display(.code(data: "5678")))
        #expect(refreshed.currentStep?.id != displayID)
    }

    @Test func idleSessionsExpire() async throws {
        let connector = ScriptedConnector()
        let service = try makeService(connector, policy: SessionPolicy(idleTimeout: .milliseconds(100)))
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        let maintenance = Task { await service.runMaintenance(every: .milliseconds(50)) }
        defer { maintenance.cancel() }
        // Reading the session counts as a touch, so look only once, well after it went idle.
        try await Task.sleep(for: .milliseconds(600))
        let session = try await service.session(bridgeID: "scripted", id: created.id).session
        #expect(session.status == .failed)
        #expect(session.error?.code == "session_expired")
        // The process is told after the session's new state is saved; give it a moment.
        for _ in 0..<100 where connector.cancels.withLock({ $0 }) == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(connector.cancels.withLock { $0 } == 1)
    }

    @Test func unfinishedSessionsFailAfterARestart() async throws {
        let store = try SQLiteStore.inMemory()
        let first = try makeService(ScriptedConnector(), store: store)
        let created = try await first.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil).session
        let second = try makeService(ScriptedConnector(), store: store)
        try await second.recoverAfterRestart()
        let after = try await second.session(bridgeID: "scripted", id: created.id).session
        #expect(after.status == .failed)
        #expect(after.error?.code == "server_restarted")
        let error = await #expect(throws: BridgesError.self) {
            try await second.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created), StepSubmission(type: .userInput))
        }
        #expect(error?.kind == .conflict)
    }
}
