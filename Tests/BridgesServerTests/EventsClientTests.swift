@testable import BridgesClient
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// The SDK's `client.events` and `runLogin` over real sockets: typed events, reconnecting after
/// a drop, and following a login through events or, without `/v1/ws`, by asking the server.
@Suite(.timeLimit(.minutes(2))) struct EventsClientTests {
    /// A client whose reconnect waits are recorded instead of slept.
    private func sdk(_ baseURL: String, token: String, waits: Recorded<Duration>? = nil) throws -> BridgesClient {
        var client = try BridgesClient(accessToken: token, baseURL: baseURL, environment: [:])
        let waits = waits ?? Recorded<Duration>()
        client.eventSleep = { waits.record($0) }
        return client
    }

    @Test func eventsFollowALoginSessionAsTypedValues() async throws {
        try await TestServer.run { server in
            let client = try sdk(server.baseURL, token: server.token)
            let session = try await client.bridges.loginSessions.create(bridgeID: "demo-messenger", flowID: "qr")
            var events = client.events(bridgeIDs: [], loginSessionIDs: [session.loginSessionID]).makeAsyncIterator()
            // The demo's QR code changes every second here, so an event comes whenever the subscription starts.
            guard case .loginSession_updated(let refreshed) = try await events.next() else {
                Issue.record("expected a login-session.updated event")
                return
            }
            #expect(refreshed.bridgeID == "demo-messenger")
            #expect(refreshed.data.loginSessionID == session.loginSessionID)
            #expect(refreshed.data.currentStep?.stepID != session.currentStep?.stepID)

            _ = try await client.bridges.loginSessions.cancel(session.loginSessionID, bridgeID: "demo-messenger")
            var last = refreshed.data
            while last.status != .cancelled, let event = try await events.next() {
                guard case .loginSession_updated(let update) = event else {
                    Issue.record("only the session's events were asked for, got \(event)")
                    return
                }
                last = update.data
            }
            #expect(last.status == .cancelled)
        }
    }

    @Test func aDroppedConnectionIsReconnectedAndResubscribed() async throws {
        try await TestServer.run { server in
            let port = Int(server.baseURL.split(separator: ":").last ?? "") ?? 0
            try await RecordingProxy.run(targetPort: port) { proxy in
                let waits = Recorded<Duration>()
                let client = try sdk(proxy.baseURL, token: server.token, waits: waits)
                let direct = try sdk(server.baseURL, token: server.token)
                var feed = client.eventSource.feed(bridgeIDs: ["demo-password"], loginSessionIDs: []).makeAsyncIterator()
                guard case .subscribed = try await feed.next() else {
                    Issue.record("expected the subscription first")
                    return
                }
                proxy.cut()
                guard case .subscribed = try await feed.next() else {
                    Issue.record("expected a new subscription after the drop")
                    return
                }
                // One wait, as long as a first retry's: min(0.5 s × 2⁰, 8 s) × jitter 0.75–1.
                let recorded = waits.all
                #expect(recorded.count == 1)
                #expect(recorded.allSatisfy { $0 >= .milliseconds(375) && $0 <= .milliseconds(500) })
                #expect(proxy.requests("GET", "/v1/ws") == 2)

                let created = try await direct.bridges.loginSessions.create(bridgeID: "demo-password")
                guard case .event(.loginSession_updated(let event)) = try await feed.next() else {
                    Issue.record("expected the new session's event after resubscribing")
                    return
                }
                #expect(event.data.loginSessionID == created.loginSessionID)
            }
        }
    }

    @Test func aServerWithoutEventsIsReportedNotRetried() async throws {
        try await TestServer.run { server in
            var client = try sdk(server.baseURL, token: server.token)
            client.eventsPath = "/v1/no-such-ws"
            await #expect(throws: EventsUnavailable.self) {
                for try await event in client.events() { Issue.record("no events expected, got \(event)") }
            }
        }
    }

    @Test func runLoginFollowsAQRCodeThroughEventsWithoutPolling() async throws {
        try await TestServer.run { server in
            let port = Int(server.baseURL.split(separator: ":").last ?? "") ?? 0
            try await RecordingProxy.run(targetPort: port) { proxy in
                let client = try sdk(proxy.baseURL, token: server.token)
                let shown = Recorded<String>()
                let finished = try await client.bridges.runLogin(bridgeID: "demo-messenger", flowID: "qr") { session in
                    guard case .displayAndWait(let step) = session.currentStep, case .qr(let qr) = step.display else {
                        return .wait
                    }
                    // Scan the second code the login shows, so a refresh must have come through.
                    if shown.record(step.stepID) == 2 {
                        let path = String(qr.data.dropFirst(server.baseURL.count))
                        _ = try await server.raw(.GET, path, authorized: false)
                    }
                    return .wait
                }
                #expect(finished.status == .complete, "\(finished)")
                #expect(Set(shown.all).count == 2)
                #expect(proxy.requests("POST", "/v1/bridges/demo-messenger/login-sessions/\(finished.loginSessionID)/steps") == 0)
                // One read after subscribing, so a change just before it is not missed; no polling.
                #expect(proxy.requests("GET", "/v1/bridges/demo-messenger/login-sessions/\(finished.loginSessionID)") <= 1)
            }
        }
    }

    @Test func runLoginAsksTheServerWhenThereIsNoEventsEndpoint() async throws {
        try await TestServer.run { server in
            let port = Int(server.baseURL.split(separator: ":").last ?? "") ?? 0
            try await RecordingProxy.run(targetPort: port) { proxy in
                var client = try sdk(proxy.baseURL, token: server.token)
                // Beeper Desktop answers the upgrade with 404, as this path does.
                client.eventsPath = "/v1/no-such-ws"
                let finished = try await client.bridges.runLogin(bridgeID: "demo-messenger", flowID: "nothing") { _ in .wait }
                #expect(finished.status == .complete, "\(finished)")
                #expect(proxy.requests("GET", "/v1/no-such-ws") == 1)
                #expect(proxy.requests("POST", "/v1/bridges/demo-messenger/login-sessions/\(finished.loginSessionID)/steps") >= 1)
            }
        }
    }
}

/// What a test's callbacks saw (reconnect waits, steps shown), in order.
final class Recorded<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    var all: [Value] { values.withLock { $0 } }

    /// Keeps `value` and returns how many there are now.
    @discardableResult func record(_ value: Value) -> Int {
        values.withLock { $0.append(value); return $0.count }
    }
}
