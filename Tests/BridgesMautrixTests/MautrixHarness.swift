import BridgesCore
import BridgesMautrix
import BridgesStore
import BridgesTestSupport
import Foundation
import Logging
import MautrixFake
import Testing

/// A service with one mautrix connector pointed at a fake bridge of the given generation.
struct MautrixHarness {
    let fake: FakeProvisioningServer
    let service: BridgesService
    let connector: MautrixConnector
    /// The connector's clock: advancing it past the cache age makes the next read ask the bridge.
    let clock: ManualClock

    /// `permittedUsers`: who the fake bridge lets in (`nil`: Alice alone). `servedUser`: the one
    /// user the connector is set up for (`mautrix.userID`); `nil` serves whoever calls.
    static func run(
        _ generation: FakeProvisioningServer.Generation, secret: String? = nil, readTimeout: Duration = .seconds(5),
        displayWait: Duration = .seconds(5), serviceClock: AnyClock = .continuous,
        permittedUsers: Set<UserID>? = nil, servedUser: UserID? = nil,
        _ body: @Sendable (MautrixHarness) async throws -> Void
    ) async throws {
        let fake = FakeProvisioningServer(
            generation: generation, userID: UserID.alice.rawValue, permittedUsers: permittedUsers.map { Set($0.map(\.rawValue)) })
        let url = try await fake.start()
        let clock = ManualClock()
        let connector = MautrixConnector(
            configuration: MautrixBridgeConfiguration(
                id: "sh-dummy", url: url, sharedSecret: secret ?? fake.secret, userID: servedUser,
                connectTimeout: .seconds(2), readTimeout: readTimeout),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), clock: AnyClock(clock))
        let service = BridgesService(
            connectors: [connector], store: try SQLiteStore.inMemory(owner: .alice), policy: SessionPolicy(displayWait: displayWait),
            listingTimeout: .seconds(1), clock: serviceClock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let harness = MautrixHarness(fake: fake, service: service, connector: connector, clock: clock)
        do {
            try await body(harness)
        } catch {
            await service.shutdown()
            await fake.stop()
            throw error
        }
        await service.shutdown()
        await fake.stop()
    }

    func start(_ flowID: String? = "password", loginID: String? = nil, for user: UserID = .alice) async throws -> LoginSession {
        try await service.createSession(bridgeID: "sh-dummy", flowID: flowID, loginID: loginID, accountID: nil, for: user).session
    }

    func submit(
        _ session: LoginSession, _ fields: [String: String], type: StepKind = .userInput, for user: UserID = .alice
    ) async throws -> LoginSession {
        try await service.submit(
            bridgeID: "sh-dummy", sessionID: session.id, stepID: try #require(session.currentStep?.id),
            StepSubmission(type: type, fields: fields), for: user
        ).session
    }

    /// A password login from start to finish; returns the completed session.
    func logIn(_ username: String, for user: UserID = .alice) async throws -> LoginSession {
        try await submit(try await start(for: user), ["username": username, "password": "pw"], for: user)
    }

    func current(_ session: LoginSession, for user: UserID = .alice) async throws -> LoginSession {
        try await service.session(bridgeID: "sh-dummy", id: session.id, for: user).session
    }

    /// Reads the session until `condition` holds, for changes the background long-poll makes;
    /// the suite's time limit ends a wait for a change that never comes.
    func eventually(
        _ session: LoginSession, for user: UserID = .alice, _ condition: (LoginSession) -> Bool
    ) async throws -> LoginSession {
        var latest = try await current(session, for: user)
        while !condition(latest) {
            try? await Task.sleep(for: .milliseconds(1))
            latest = try await current(session, for: user)
        }
        return latest
    }

    /// Makes the cached `/v3/whoami` answer too old, so the next read sees the bridge's changes.
    func expireWhoami() {
        clock.advance(by: .seconds(3))
    }

    func stepRequests() -> [String] {
        fake.requests.filter { $0.contains("/login/step/") }
    }

    /// The `/v3/whoami` requests the fake received for `user`.
    func whoamiRequests(for user: UserID) -> Int {
        fake.recordedRequests.filter { $0.path.hasSuffix("/v3/whoami") && $0.userID == user.rawValue }.count
    }
}
