import BridgesAPI
import BridgesClient
import BridgesCore
import BridgesServer
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Malformed and hostile requests get a 4xx error body, and the server stays healthy.
@Suite(.timeLimit(.minutes(2))) struct HostileInputTests {
    static let submitPath = "/v1/bridges/demo-password/login-sessions/SESSION/steps/STEP"

    @Test(arguments: [
        (#"{"type": 5}"#, 422),
        (#"{"type": "teleport"}"#, 422),
        (#"{"fields": {"username": "a"}}"#, 422),
        (#"{"type": "user_input", "fields": {"username": 7}}"#, 422),
        (#"{"type": "user_input", "fields": ["a"]}"#, 422),
        (#"{"type": "user_input", "source": "carrier-pigeon"}"#, 422),
        (#"[]"#, 422),
        (#"null"#, 422),
        (#"{"type": "user_input""#, 400),
        (String(repeating: "[", count: 100_000), 400),
        (#"{"type": "user_input", "fields": {"username": "a", "password": "b"}, "surprise": {"nested": [1, 2]}}"#, 200),
    ])
    func malformedStepSubmits(body: String, status: Int) async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            let step = try #require(session.userInputStep)
            let path = Self.submitPath.replacingOccurrences(of: "SESSION", with: session.loginSessionID)
                .replacingOccurrences(of: "STEP", with: step.stepID)
            let response = try await server.rawJSON(.POST, path, body: body, headers: ["Content-Type": "application/json"])
            #expect(response.status == status, "\(body.prefix(80))")
            if status >= 400 {
                #expect(response.json["message"] is String)
                #expect(response.json["code"] is String)
            }
            #expect(try await server.raw(.GET, "/v1/info").status == 200)
        }
    }

    @Test func invalidUTF8AndWrongContentTypeAreRefused() async throws {
        try await TestServer.run { server in
            let invalid = try await server.rawBytes(
                .POST, "/v1/bridges/demo-password/login-sessions", body: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D],
                headers: ["Content-Type": "application/json"])
            #expect(invalid.status == 400)
            let form = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions", body: "flowID=password",
                headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(form.status == 415)
            #expect(form.json["code"] as? String == "unsupported_media_type")
        }
    }

    @Test(arguments: [
        "/v1/bridges/..%2Fv1%2Finfo", "/v1/bridges/%2e%2e/capabilities", "/v1/bridges/demo%00password",
        "/v1/bridges/demo-password%2Flogins", "/v1/bridges/" + String(repeating: "x", count: 4000),
        "/v1/bridges/demo-password/logins/%F0%9F%98%80",
    ])
    func pathTricksFindNothing(path: String) async throws {
        try await TestServer.run { server in
            let response = try await server.rawJSON(.GET, path)
            #expect(response.status == 404, "\(path.prefix(60))")
            #expect(response.json["code"] is String)
        }
    }

    @Test func hugeStringsAreHandled() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            let step = try #require(session.userInputStep)
            let huge = String(repeating: "a", count: 200_000)
            let done = try await server.submit(session, step: step.stepID, .userInput, ["username": huge, "password": "pw"])
            #expect(done.status == .complete)
        }
    }

    @Test func bodiesOverTheLimitAre413() async throws {
        try await TestServer.run(configure: { $0.maxBodyBytes = 4096 }) { server in
            let big = #"{"flowID": ""# + String(repeating: "x", count: 10_000) + #""}"#
            let response = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions", body: big, headers: ["Content-Type": "application/json"])
            #expect(response.status == 413)
            #expect(response.json["code"] as? String == "payload_too_large")
            #expect(try await server.raw(.GET, "/v1/info").status == 200)
        }
    }

    @Test func liveSessionsAreCapped() async throws {
        try await TestServer.run(configure: { $0.maxSessionsPerBridge = 2 }) { server in
            let first = try await server.createSession("demo-password")
            _ = try await server.createSession("demo-password")
            let refused = try await server.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions", body: "{}")
            #expect(refused.status == 429)
            #expect(refused.json["code"] as? String == "too_many_login_sessions")
            // Another bridge has its own allowance.
            _ = try await server.createSession("demo-workspace")
            _ = try await server.client.cancelLoginSession(
                path: .init(bridgeID: "demo-password", loginSessionID: first.loginSessionID))
            _ = try await server.createSession("demo-password")
        }
    }

    @Test(arguments: [
        ("DELETE", "/v1/bridges", "GET"),
        ("PUT", "/v1/bridges/demo-password/login-sessions", "POST"),
        ("GET", "/v1/bridges/demo-password/logins/x/remove", "POST"),
        ("POST", "/v1/bridges/demo-password/login-sessions/ls_x", "DELETE, GET"),
    ])
    func aKnownPathWithAnotherMethodIs405(method: String, path: String, allowed: String) async throws {
        try await TestServer.run { server in
            let response = try await server.raw(HTTPMethod(rawValue: method), path, body: "{}")
            #expect(response.status == 405)
            #expect(response.headers["allow"].first == allowed)
            let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            #expect(json?["code"] as? String == "method_not_allowed")
            #expect((json?["message"] as? String)?.contains(allowed) == true)
        }
    }

    @Test func requestsArePacedPerToken() async throws {
        // Time stands still, so the bucket never refills however slow the requests are.
        try await TestServer.run(clock: AnyClock(ManualClock()), configure: { $0.requestsPerMinute = 60 }) { server in
            var statuses: [Int] = []
            var retryAfter: String?
            for _ in 0..<12 {
                let response = try await server.raw(.GET, "/v1/bridges")
                statuses.append(response.status)
                if response.status == 429 { retryAfter = response.headers["retry-after"].first }
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == 200 })
            #expect(statuses.last == 429)
            #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
            // Unauthenticated requests never reach the budget: they are refused first.
            #expect(try await server.raw(.GET, "/v1/bridges", authorized: false).status == 401)
        }
    }
}

extension TestServer {
    func rawBytes(
        _ method: HTTPMethod, _ path: String, body: [UInt8], headers: [String: String] = [:]
    ) async throws -> (status: Int, body: String) {
        let response = try await raw(method, path, bytes: body, headers: headers)
        return (response.status, response.body)
    }
}
