import AsyncHTTPClient
import BridgesClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The Swift SDK's facade, against a real server.
@Suite(.timeLimit(.minutes(2))) struct SDKTests {
    private func sdk(_ server: TestServer, maxRetries: Int = 2) throws -> BridgesClient {
        try BridgesClient(accessToken: server.token, baseURL: server.baseURL, maxRetries: maxRetries, environment: [:])
    }

    @Test func everyMethod() async throws {
        try await TestServer.run { server in
            let client = try sdk(server)
            #expect(try await client.info().app.name == "Bridges")
            #expect(try await client.bridges.list().count == 4)
            #expect(try await client.bridges.retrieve("demo-password").id == "demo-password")
            #expect(try await client.bridges.capabilities("demo-password").resolveIdentifier.search)
            #expect(try await client.bridges.loginFlows.list(bridgeID: "demo-password").map(\.id) == ["password"])

            let session = try await client.bridges.loginSessions.create(bridgeID: "demo-password")
            #expect(try await client.bridges.loginSessions.retrieve(session.loginSessionID, bridgeID: "demo-password") == session)
            let stepID = try #require(session.currentStep?.stepID)
            let done = try await client.bridges.loginSessions.steps.submit(
                stepID, bridgeID: "demo-password", loginSessionID: session.loginSessionID, type: .userInput,
                fields: ["username": "kim", "password": "pw"])
            #expect(done.isFinished)
            #expect(try await client.bridges.logins.list(bridgeID: "demo-password").map(\.loginID) == ["kim"])
            #expect(try await client.bridges.logins.retrieve("kim", bridgeID: "demo-password").status == .connected)
            #expect(try await client.accounts.list().map(\.accountID) == ["demo-password_kim"])
            #expect(try await client.accounts.retrieve("demo-password_kim").loginID == "kim")
            let removed = try await client.bridges.logins.remove("kim", bridgeID: "demo-password", scope: .allDevices)
            #expect(removed.status == .removed)

            let other = try await client.bridges.loginSessions.create(bridgeID: "demo-password", flowID: "password")
            let cancelled = try await client.bridges.loginSessions.cancel(other.loginSessionID, bridgeID: "demo-password")
            #expect(cancelled.status == .cancelled)
        }
    }

    @Test func errorsCarryTheStatusKindAndBody() async throws {
        try await TestServer.run { server in
            let client = try sdk(server, maxRetries: 0)
            do throws(BridgesClientError) {
                _ = try await client.bridges.retrieve("nope")
                Issue.record("expected an error")
            } catch {
                #expect(error.apiError?.kind == .notFound)
                #expect(error.apiError?.code == "bridge_not_found")
                #expect(error.apiError?.message == "No bridge with ID 'nope'.")
            }
            let unauthorized = try BridgesClient(accessToken: "wrong", baseURL: server.baseURL, environment: [:])
            do throws(BridgesClientError) {
                _ = try await unauthorized.bridges.list()
                Issue.record("expected an error")
            } catch {
                #expect(error.apiError?.kind == .authentication)
            }
        }
    }

    @Test func configurationComesFromTheEnvironment() throws {
        #expect(throws: BridgesClientError.self) { try BridgesClient(environment: [:]) }
        let client = try BridgesClient(environment: ["BEEPER_ACCESS_TOKEN": "t", "BEEPER_BASE_URL": "http://example.test:1234"])
        #expect(client.baseURL.absoluteString == "http://example.test:1234")
        #expect(try BridgesClient(environment: ["BEEPER_ACCESS_TOKEN": "t"]).baseURL.absoluteString == BridgesClient.defaultBaseURL)
        #expect(throws: BridgesClientError.self) { try BridgesClient(accessToken: "t", baseURL: "ftp://x", environment: [:]) }
    }

    @Test(arguments: [
        (400, APIStatusError.Kind.badRequest), (401, .authentication), (403, .permissionDenied), (404, .notFound),
        (409, .conflict), (422, .unprocessableEntity), (429, .rateLimited), (500, .internalServer), (502, .internalServer),
        (418, .other),
    ])
    func statusesMapLikeTheOfficialSDKs(status: Int, kind: APIStatusError.Kind) async throws {
        try await FlakyServer.run(failures: .max, status: status) { url, _ in
            let client = try BridgesClient(accessToken: "t", baseURL: url, maxRetries: 0, environment: [:])
            do throws(BridgesClientError) {
                _ = try await client.bridges.list()
                Issue.record("expected an error")
            } catch {
                #expect(error.apiError?.kind == kind)
                #expect(error.apiError?.status == status)
                #expect(error.apiError?.code == "flaky")
            }
        }
    }

    @Test func retriesTwiceThenAnswers() async throws {
        try await FlakyServer.run(failures: 2, status: 503) { url, requests in
            let client = try BridgesClient(accessToken: "t", baseURL: url, environment: [:])
            #expect(try await client.bridges.list().isEmpty)
            #expect(requests() == 3)
        }
        try await FlakyServer.run(failures: 3, status: 429) { url, requests in
            let client = try BridgesClient(accessToken: "t", baseURL: url, environment: [:])
            await #expect(throws: BridgesClientError.self) { try await client.bridges.list() }
            #expect(requests() == 3)
        }
        try await FlakyServer.run(failures: 1, status: 400) { url, requests in
            let client = try BridgesClient(accessToken: "t", baseURL: url, environment: [:])
            await #expect(throws: BridgesClientError.self) { try await client.bridges.list() }
            #expect(requests() == 1)
        }
    }

    @Test func unreachableServerIsAConnectionError() async throws {
        let client = try BridgesClient(accessToken: "t", baseURL: "http://127.0.0.1:9", maxRetries: 0, environment: [:])
        do throws(BridgesClientError) {
            _ = try await client.bridges.list()
            Issue.record("expected an error")
        } catch {
            guard case .connection = error else {
                Issue.record("expected a connection error, got \(error)")
                return
            }
        }
    }

    @Test(arguments: [
        ("demo-password", "password", ["username": "lee", "password": "pw"]),
        ("demo-password", "password", ["username": "lee-2fa", "password": "pw", "code": "123456"]),
        ("demo-workspace", "email", ["email": "lee@example.com", "password": "pw"]),
        ("demo-cookies", "cookies", ["session": "lee.x", "csrf": "c", "token": "t"]),
        ("demo-messenger", "qr", [:]),
        ("demo-messenger", "pairing-code", ["phone_number": "+15550100"]),
        ("demo-messenger", "emoji", [:]),
        ("demo-messenger", "nothing", [:]),
    ])
    func loginHelperRunsEveryDemoFlow(bridgeID: String, flowID: String, values: [String: String]) async throws {
        try await TestServer.run { server in
            let client = try sdk(server)
            let finished = try await client.bridges.runLogin(bridgeID: bridgeID, flowID: flowID) { session in
                switch session.currentStep {
                case .userInput(let step):
                    return .userInput(Dictionary(uniqueKeysWithValues: step.fields.map { ($0.id, values[$0.id] ?? "") }))
                case .cookies(let step):
                    return .cookies(Dictionary(uniqueKeysWithValues: step.fields.map { ($0.id, values[$0.id] ?? "") }))
                case .displayAndWait(let step):
                    // The demo's phone: open the link the step shows.
                    let text: String
                    if case .qr(let qr) = step.display { text = qr.data } else { text = step.instructions ?? "" }
                    if let range = text.range(of: #"http://\S+/demo/(scan|approve)/[a-z0-9]+"#, options: .regularExpression) {
                        _ = try await server.raw(.GET, String(text[range].dropFirst(server.baseURL.count)), authorized: false)
                    }
                    return .wait
                default:
                    return .wait
                }
            }
            #expect(finished.status == .complete, "\(finished)")
            #expect(finished.account?.bridge.id == bridgeID)
        }
    }
}

/// A server that answers `status` with an error body `failures` times, then an empty bridge list.
enum FlakyServer {
    static func run(
        failures: Int, status: Int, _ body: @Sendable (String, @Sendable () -> Int) async throws -> Void
    ) async throws {
        let count = Counter()
        let router = Router()
        router.get("/v1/bridges") { _, _ -> Response in
            let seen = count.increment()
            if seen <= failures {
                return Response(
                    status: .init(code: status), headers: [.contentType: "application/json", HTTPField.Name("retry-after-ms")!: "10"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"message":"try again","code":"flaky"}"#)))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"items":[]}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port ?? 0)", { count.value })
        }
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}
