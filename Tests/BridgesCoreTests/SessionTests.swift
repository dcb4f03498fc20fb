import BridgesCore
import BridgesTestSupport
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
    /// When set, each submit waits until this clock passes one second, so tests can hold it.
    let submitClock: ManualClock?
    let submits = Mutex(0)
    let cancels = Mutex(0)
    let loginsMade = Mutex<[Login]>([])
    let displayNext = Mutex<CheckedContinuation<Step, Never>?>(nil)

    init(outcome: Outcome = .complete, submitClock: ManualClock? = nil) {
        self.outcome = outcome
        self.submitClock = submitClock
    }

    func describe(for user: UserID) async -> BridgeDescriptor {
        BridgeDescriptor(id: bridgeID, displayName: "Scripted", type: "scripted", provider: .local, supportsMultipleAccounts: true)
    }
    func loginFlows(for user: UserID) async throws -> [LoginFlow] { [LoginFlow(id: "only")] }
    func capabilities(for user: UserID) async throws -> JSONValue { [:] }
    func logins(for user: UserID) async throws -> [Login] { loginsMade.withLock { $0 } }
    func removeLogin(_ loginID: String, scope: RemoveScope, for user: UserID) async throws -> Login? { nil }

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
            if let clock = connector.submitClock { try await clock.sleep(for: .seconds(1)) }
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
    _ connector: ScriptedConnector, store: any Store = InMemoryStore(), policy: SessionPolicy = SessionPolicy(),
    clock: ManualClock = ManualClock()
) -> BridgesService {
    BridgesService(
        connectors: [connector], store: store, policy: policy, clock: AnyClock(clock),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}

func stepID(_ session: LoginSession) throws -> String {
    try #require(session.currentStep?.id)
}

@Suite(.timeLimit(.minutes(2))) struct SessionStateMachineTests {
    @Test func inputThenComplete() async throws {
        let connector = ScriptedConnector()
        let service = makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        #expect(created.status == .waitingForInput)
        #expect(created.flowID == "only")
        let done = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"]), for: .alice
        ).session
        #expect(done.status == .complete)
        #expect(done.loginID == "login-1")
        #expect(done.accountID == "acc-1")
        #expect(done.login?.loginID == "login-1")
        #expect(done.currentStep?.kind == .complete)
    }

    @Test func missingRequiredFieldIsRefusedAndChangesNothing() async throws {
        let connector = ScriptedConnector()
        let service = makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        let error = await #expect(throws: BridgesError.self) {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
                StepSubmission(type: .userInput, fields: ["note": "only the optional one"]), for: .alice)
        }
        #expect(error?.kind == .unprocessable)
        #expect(error?.issues.map(\.path) == [[.key("body"), .key("fields"), .key("secret")]])
        #expect(connector.submits.withLock { $0 } == 0)
        let after = try await service.session(bridgeID: "scripted", id: created.id, for: .alice).session
        #expect(after.status == .waitingForInput)
        #expect(after.currentStep?.id == created.currentStep?.id)
    }

    @Test func concurrentIdenticalSubmitsApplyOnce() async throws {
        let held = ManualClock()
        let connector = ScriptedConnector(submitClock: held)
        let service = makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        let id = try stepID(created)
        let results = try await withThrowingTaskGroup(of: LoginSessionStatus.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await service.submit(
                        bridgeID: "scripted", sessionID: created.id, stepID: id,
                        StepSubmission(type: .userInput, fields: ["secret": "s"]), for: .alice
                    ).session.status
                }
            }
            // The first submit is inside the connector; the others queue behind it.
            await held.waitForSleepers(1)
            held.advance(by: .seconds(1))
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: .complete, count: 5))
        #expect(connector.submits.withLock { $0 } == 1)
        // And once more, after the fact: still the same answer, still applied once.
        let again = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: id, StepSubmission(type: .userInput, fields: ["secret": "s"]), for: .alice)
        #expect(again.session.status == .complete)
        #expect(connector.submits.withLock { $0 } == 1)
    }

    @Test func connectorFailureEndsTheSession() async throws {
        let connector = ScriptedConnector(outcome: .fail)
        let service = makeService(connector)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        let failed = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"]), for: .alice
        ).session
        #expect(failed.status == .failed)
        #expect(failed.error == SessionError(code: "nope", message: "Refused."))
        #expect(failed.currentStep == nil)
        #expect(connector.cancels.withLock { $0 } == 1)
        let error = await #expect(throws: BridgesError.self) {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: "input.9", StepSubmission(type: .userInput), for: .alice)
        }
        #expect(error?.code == "login_session_finished")
    }

    @Test func displayWaitReturnsOnChangeOrAtItsBound() async throws {
        let clock = ManualClock()
        let connector = ScriptedConnector(outcome: .display)
        let service = makeService(connector, policy: SessionPolicy(displayWait: .seconds(20)), clock: clock)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        let shown = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"]), for: .alice
        ).session
        #expect(shown.status == .waitingForDisplay)
        let displayID = try stepID(shown)

        // Nothing happens: the wait ends at its bound, and not before, with the same step.
        let unchanged = Task {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: displayID, StepSubmission(type: .displayAndWait), for: .alice
            ).session
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(19))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        #expect(try await unchanged.value.currentStep?.id == displayID)

        // The connector moves on while a client waits: the wait returns the new step.
        let waited = Task {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: displayID, StepSubmission(type: .displayAndWait), for: .alice
            ).session
        }
        await clock.waitForSleepers(1)
        #expect(await eventually { connector.displayNext.withLock { $0 != nil } })
        connector.finishDisplay(with: Step(id: "show", content: .display(.code(data: "5678"))))
        let refreshed = try await waited.value
        #expect(refreshed.currentStep?.step.content == .display(.code(data: "5678")))
        #expect(refreshed.currentStep?.id != displayID)
    }

    @Test func idleSessionsExpire() async throws {
        let clock = ManualClock()
        let connector = ScriptedConnector()
        let service = makeService(connector, policy: SessionPolicy(idleTimeout: .seconds(600)), clock: clock)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        clock.advance(by: .seconds(599))
        await service.maintain()
        #expect(try await service.session(bridgeID: "scripted", id: created.id, for: .alice).session.status == .waitingForInput)
        // That read was a touch: the idle time starts again from here.
        clock.advance(by: .seconds(601))
        await service.maintain()
        let session = try await service.session(bridgeID: "scripted", id: created.id, for: .alice).session
        #expect(session.status == .failed)
        #expect(session.error?.code == "session_expired")
        #expect(session.error?.message.contains("10 minutes") == true)
        #expect(connector.cancels.withLock { $0 } == 1)
    }

    @Test func finishedSessionsLeaveMemoryAfterTheirRetention() async throws {
        let clock = ManualClock()
        let store = InMemoryStore()
        let connector = ScriptedConnector()
        let service = makeService(connector, store: store, policy: SessionPolicy(finishedRetention: .seconds(60)), clock: clock)
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        _ = try await service.cancelSession(bridgeID: "scripted", id: created.id, for: .alice)
        clock.advance(by: .seconds(61))
        await service.maintain()
        // Only the record is left: a re-sent cancel still answers the cancelled session, a
        // submit answers that the session is over.
        #expect(try await service.cancelSession(bridgeID: "scripted", id: created.id, for: .alice).session.status == .cancelled)
        let error = await #expect(throws: BridgesError.self) {
            try await service.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created), StepSubmission(type: .userInput), for: .alice)
        }
        #expect(error?.code == "login_session_finished")
    }

    @Test func cancellingAFinishedSessionIsAConflict() async throws {
        let service = makeService(ScriptedConnector())
        let created = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        _ = try await service.submit(
            bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created),
            StepSubmission(type: .userInput, fields: ["secret": "s"]), for: .alice)
        let error = await #expect(throws: BridgesError.self) {
            try await service.cancelSession(bridgeID: "scripted", id: created.id, for: .alice)
        }
        #expect(error?.code == "login_session_finished")
        #expect(error?.details?["status"] == .string("complete"))
    }

    @Test func sessionCapsCountOnlyUnfinishedSessions() async throws {
        let service = makeService(ScriptedConnector(), policy: SessionPolicy(maxLivePerBridge: 2, maxLiveTotal: 2))
        let first = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        _ = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice)
        let error = await #expect(throws: BridgesError.self) {
            try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice)
        }
        #expect(error?.code == "too_many_login_sessions")
        _ = try await service.cancelSession(bridgeID: "scripted", id: first.id, for: .alice)
        _ = try await service.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice)
    }

    @Test func unfinishedSessionsFailAfterARestart() async throws {
        let store = InMemoryStore()
        let first = makeService(ScriptedConnector(), store: store)
        let created = try await first.createSession(bridgeID: "scripted", flowID: nil, loginID: nil, accountID: nil, for: .alice).session
        let second = makeService(ScriptedConnector(), store: store)
        try await second.recoverAfterRestart()
        let after = try await second.session(bridgeID: "scripted", id: created.id, for: .alice).session
        #expect(after.status == .failed)
        #expect(after.error?.code == "server_restarted")
        let error = await #expect(throws: BridgesError.self) {
            try await second.submit(
                bridgeID: "scripted", sessionID: created.id, stepID: try stepID(created), StepSubmission(type: .userInput), for: .alice)
        }
        #expect(error?.kind == .conflict)
    }
}
