import AsyncHTTPClient
import Foundation
import MautrixFake
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// Smoke tests of the fake itself, over real HTTP. Waits are for events, not for time; the time
/// limit turns a wait for an event that never comes into a failure.
@Suite(.timeLimit(.minutes(1))) struct FakeProvisioningServerTests {
    struct Answer {
        var status: Int
        var body: String
        var headers: HTTPHeaders

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }

        func string(_ keys: String...) -> String? {
            var value: Any? = json
            for key in keys { value = (value as? [String: Any])?[key] }
            return value as? String
        }
    }

    struct Client {
        let fake: FakeProvisioningServer
        let base: String

        static let user = "%40alice%3Aexample.test"

        /// `path` is relative to /_matrix/provision; `?user_id=` is added unless `user` is nil.
        func call(
            _ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = "",
            user: String? = Client.user, timeout: TimeAmount = .seconds(10)
        ) async throws -> Answer {
            var url = base + "/_matrix/provision" + path
            if let user { url += (path.contains("?") ? "&" : "?") + "user_id=" + user }
            var request = HTTPClientRequest(url: url)
            request.method = method
            if let token { request.headers.add(name: "Authorization", value: "Bearer " + (token.isEmpty ? fake.secret : token)) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            let collected = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), body: String(buffer: collected), headers: response.headers)
        }

        func start(_ flow: String, query: String = "") async throws -> Answer {
            try await call(.POST, "/v3/login/start/\(flow)" + query)
        }

        func step(_ answer: Answer, body: String? = nil, txn: String? = nil, timeout: TimeAmount = .seconds(10))
            async throws -> Answer
        {
            let id = answer.string("login_id")!, stepID = answer.string("step_id")!, type = answer.string("type")!
            return try await call(
                .POST, "/v3/login/step/\(id)/\(stepID)/\(type)" + (txn.map { "?txn_id=\($0)" } ?? ""), body: body,
                timeout: timeout)
        }

        /// Waits (yielding) until the fake has received `count` requests whose line starts with
        /// `prefix`.
        func waitForRequests(_ prefix: String, count: Int) async {
            while fake.requests.filter({ $0.hasPrefix(prefix) }).count < count { try? await Task.sleep(for: .milliseconds(1)) }
        }
    }

    func withFake(
        _ generation: FakeProvisioningServer.Generation, _ body: (Client) async throws -> Void
    ) async throws {
        let fake = FakeProvisioningServer(generation: generation)
        let base = try await fake.start()
        #expect(base.hasPrefix("http://127.0.0.1:"))
        do {
            try await body(Client(fake: fake, base: base))
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }

    // MARK: Old generation (transcript)

    @Test func oldReadOnlyEndpointsMatchTheTranscript() async throws {
        try await withFake(.old) { c in
            let whoami = try await c.call(.GET, "/v3/whoami")
            #expect(whoami.status == 200)
            #expect(whoami.headers["Content-Type"] == ["application/json"])
            #expect(whoami.headers["Access-Control-Allow-Origin"] == ["*"])
            #expect(whoami.headers["Request-Id"].first?.count == 20)
            #expect(
                whoami.body
                    == #"{"network":{"displayname":"Dummy","network_url":"https://beeper.com","network_icon":"mxc://beeper.com/f6ec13a4953757f04c1714b43d1c8ec451e0bab1","network_id":"dummy","beeper_bridge_type":"beeper.com/dummy"},"login_flows":[{"name":"Password","description":"Log in with a password","id":"password"},{"name":"Cookies","description":"Log in with extracted cookies","id":"cookies"},{"name":"Local storage","description":"Log in with extracted local storage","id":"localstorage"},{"name":"Display and wait","description":"Log in through a remote server","id":"displayandwait"},{"name":"QR","description":"Scan a QR code","id":"qr"}],"homeserver":"example.test","bridge_bot":"@dummybot:example.test","command_prefix":"!dummy","logins":[]}"#
                    + "\n")
            let capabilities = try await c.call(.GET, "/v3/capabilities")
            #expect(
                capabilities.body
                    == #"{"resolve_identifier":{"create_dm":false,"lookup_phone":false,"lookup_email":false,"lookup_username":false,"any_phone":false,"contact_list":false,"search":false},"group_creation":null}"#
                    + "\n")
            let flows = try await c.call(.GET, "/v3/login/flows")
            #expect(flows.body.hasPrefix(#"{"flows":[{"name":"Password","description":"Log in with a password","id":"password"},"#))
            #expect((flows.json["flows"] as? [Any])?.count == 5)
            #expect(try await c.call(.GET, "/v3/logins").body == "{\"login_ids\":[]}\n")
        }
    }

    @Test func oldAuthAndRoutingErrors() async throws {
        try await withFake(.old) { c in
            let missing = try await c.call(.GET, "/v3/whoami", token: nil)
            #expect(missing.status == 401)
            #expect(missing.body == "{\"errcode\":\"M_MISSING_TOKEN\",\"error\":\"Missing auth token\"}\n")
            let wrong = try await c.call(.GET, "/v3/whoami", token: "wrong-secret-wrong-secret")
            #expect(wrong.status == 401)
            #expect(wrong.string("errcode") == "M_UNKNOWN_TOKEN")
            #expect(wrong.string("error") == "Invalid auth token")
            let noUser = try await c.call(.GET, "/v3/whoami", user: nil)
            #expect(noUser.status == 403)
            #expect(noUser.body == "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"User does not have login permissions\"}\n")
            #expect(try await c.call(.GET, "/v3/whoami", user: "%40bob%3Aelsewhere.test").status == 403)
            let unknown = try await c.call(.GET, "/v3/nosuchendpoint")
            #expect(unknown.status == 404)
            #expect(unknown.body == #"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized endpoint"}"#)
            let method = try await c.call(.POST, "/v3/login/flows")
            #expect(method.status == 405)
            #expect(method.body == #"{"errcode":"M_UNRECOGNIZED","error":"Invalid method for endpoint"}"#)
            #expect(try await c.call(.POST, "/v3/login/cancel/whatever").status == 404)
            let options = try await c.call(.OPTIONS, "/v3/whoami", token: nil, user: nil)
            #expect(options.status == 200)
            #expect(options.body.isEmpty)
            #expect(c.fake.requests.first == "GET /_matrix/provision/v3/whoami?user_id=%40alice%3Aexample.test")
        }
    }

    @Test func oldPasswordFlowAndErrors() async throws {
        try await withFake(.old) { c in
            let first = try await c.start("password")
            #expect(first.status == 200)
            let processID = try #require(first.string("login_id"))
            #expect(processID.count == 20)
            #expect(
                first.body
                    == #"{"login_id":"\#(processID)","type":"user_input","step_id":"com.beeper.dummy.password","instructions":"","user_input":{"fields":[{"type":"username","id":"username","name":"username, anything goes and it's used as the ID","description":""},{"type":"password","id":"password","name":"password, anything goes","description":""}]}}"#
                    + "\n")

            let wrongID = try await c.call(
                .POST, "/v3/login/step/\(processID)/com.beeper.dummy.wrongstep/user_input", body: #"{"username":"x"}"#)
            #expect(wrongID.status == 500)
            #expect(wrongID.body == "{\"errcode\":\"M_BAD_STATE\",\"error\":\"Step ID does not match\"}\n")
            let wrongType = try await c.call(
                .POST, "/v3/login/step/\(processID)/com.beeper.dummy.password/cookies", body: #"{"username":"x"}"#)
            #expect(wrongType.status == 500)
            #expect(wrongType.string("error") == "Step type does not match")
            let notJSON = try await c.step(first, body: "not json")
            #expect(notJSON.status == 400)
            #expect(notJSON.body == "{\"errcode\":\"M_NOT_JSON\",\"error\":\"Failed to decode request body\"}\n")

            let wrongPassword = try await c.step(first, body: #"{"username":"x","password":"incorrectpassword"}"#)
            #expect(wrongPassword.status == 500)
            #expect(wrongPassword.body == "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Internal error submitting input\"}\n")
            let gone = try await c.step(first, body: #"{"username":"x","password":"y"}"#)
            #expect(gone.status == 404)
            #expect(gone.body == "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"Login not found\"}\n")

            let second = try await c.start("password")
            let done = try await c.step(second, body: #"{"username":"alice-remote","password":"hunter2"}"#)
            #expect(
                done.body
                    == #"{"login_id":"\#(second.string("login_id")!)","type":"complete","step_id":"com.beeper.dummy.complete","instructions":"Successfully logged in with whatever you provided","complete":{"user_login_id":"alice-remote"}}"#
                    + "\n")
            #expect(try await c.step(second, body: #"{"username":"alice-remote","password":"hunter2"}"#).status == 404)
            #expect(try await c.call(.GET, "/v3/logins").body == "{\"login_ids\":[\"alice-remote\"]}\n")
            let whoami = try await c.call(.GET, "/v3/whoami")
            let login = try #require((whoami.json["logins"] as? [[String: Any]])?.first)
            #expect(login["id"] as? String == "alice-remote")
            #expect(login["name"] as? String == "hunter2")
            #expect(login["state_event"] as? String == "CONNECTED")
            #expect((login["state"] as? [String: Any])?["ttl"] as? Int == 21600)
            #expect(c.fake.stepBodies.last == #"{"username":"alice-remote","password":"hunter2"}"#)

            // Override with a different remote ID replaces the login (transcript F).
            #expect(try await c.start("password", query: "?login_id=nope").status == 404)
            let override = try await c.start("password", query: "?login_id=alice-remote")
            _ = try await c.step(override, body: #"{"username":"alice-renamed","password":"pw3"}"#)
            #expect(c.fake.loginIDs == ["alice-renamed"])

            c.fake.setState(loginID: "alice-renamed", stateEvent: "BAD_CREDENTIALS", userAction: "RELOGIN", message: "Log in again")
            let state = try await c.call(.GET, "/v3/whoami")
            let changed = try #require((state.json["logins"] as? [[String: Any]])?.first)
            #expect(changed["state_event"] as? String == "BAD_CREDENTIALS")
            #expect((changed["state"] as? [String: Any])?["user_action"] as? String == "RELOGIN")
            #expect((changed["state"] as? [String: Any])?["message"] as? String == "Log in again")

            #expect(try await c.call(.POST, "/v3/logout/nope").status == 404)
            let logout = try await c.call(.POST, "/v3/logout/alice-renamed")
            #expect(logout.status == 200)
            #expect(logout.body == "{}")
            #expect(c.fake.loginIDs.isEmpty)
        }
    }

    @Test func twoFactorAndCookies() async throws {
        try await withFake(.old) { c in
            let first = try await c.start("password")
            let code = try await c.step(first, body: #"{"username":"bob-2fa","password":"pw"}"#)
            #expect(code.string("step_id") == "com.beeper.dummy.2fa")
            #expect(code.body.contains(#"{"type":"2fa_code","id":"code","name":"Code","description":""}"#))
            let done = try await c.step(code, body: #"{"code":"123456"}"#)
            #expect(done.string("complete", "user_login_id") == "bob-2fa")

            let again = try await c.start("password")
            let code2 = try await c.step(again, body: #"{"username":"bob-2fa","password":"pw"}"#)
            #expect(try await c.step(code2, body: #"{"code":"000000"}"#).status == 500)
            #expect(try await c.step(code2, body: #"{"code":"123456"}"#).status == 404)

            let cookies = try await c.start("cookies")
            #expect(cookies.string("type") == "cookies")
            #expect(cookies.body.contains(#""cookie_domain":"random.mau.fi""#))
            let cookieDone = try await c.step(cookies, body: #"{"username":"partial-user"}"#)
            #expect(cookieDone.string("complete", "user_login_id") == "partial-user")
            let storage = try await c.start("localstorage")
            #expect(storage.string("step_id") == "com.beeper.dummy.localstorage")
            #expect(try await c.step(storage, body: "{}").string("complete", "user_login_id") == "cookie-user")
            let unknown = try await c.start("nosuchflow")
            #expect(unknown.status == 500)
            #expect(unknown.body == "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Internal error starting login\"}\n")
        }
    }

    @Test func oldQRLongPollReleasedByScan() async throws {
        try await withFake(.old) { c in
            let qr = try await c.start("qr")
            #expect(qr.string("display_and_wait", "data") == "qr-payload-1")
            #expect(qr.string("step_id") == "com.beeper.dummy.qr")
            // A refresh releases the long-poll with the same step ID and new data.
            async let refreshed = c.step(qr)
            await c.fake.waitForLongPolls(1)
            c.fake.refreshQR()
            let next = try await refreshed
            #expect(next.status == 200)
            #expect(next.string("step_id") == "com.beeper.dummy.qr")
            #expect(next.string("display_and_wait", "data") == "qr-payload-2")
            // A scan while the next long-poll waits completes it.
            let poll = Task { try await c.step(next) }
            await c.fake.waitForLongPolls(2)
            c.fake.scanQR()
            let done = try await poll.value
            #expect(done.string("type") == "complete")
            #expect(done.string("complete", "user_login_id") == "qr-user")
            #expect(c.fake.loginIDs == ["qr-user"])

            let daw = try await c.start("displayandwait")
            #expect(daw.string("display_and_wait", "data") == "S25W-QBKF")
            #expect(daw.string("display_and_wait", "type") == "code")
            c.fake.scanQR()  // queued until the poll
            #expect(try await c.step(daw).string("complete", "user_login_id") == "daw-user")
        }
    }

    @Test func oldDisconnectDuringLongPollDeletesTheProcess() async throws {
        try await withFake(.old) { c in
            let qr = try await c.start("qr")
            let poll = Task { try await c.step(qr) }
            await c.fake.waitForLongPolls(1)
            poll.cancel()  // the client goes away: AsyncHTTPClient closes the connection
            await #expect(throws: (any Error).self) { try await poll.value }
            await c.fake.waitUntilNoLongPollIsPending()
            let after = try await c.step(qr)
            #expect(after.status == 404)
            #expect(after.string("error") == "Login not found")
        }
    }

    // MARK: New generation

    @Test func newTxnIDsErrorsAndCancel() async throws {
        try await withFake(.new) { c in
            let first = try await c.start("password")
            let txn = try #require(first.string("txn_id"))
            #expect(txn.hasPrefix("bls_") && txn.count == 24)
            #expect(first.body.contains(#""step_id":"com.beeper.dummy.password","txn_id":"\#(txn)","instructions":"#))
            #expect(first.body.contains(#""attachments":null"#))
            let mismatch = try await c.step(first, body: #"{"username":"x","password":"y"}"#, txn: "bls_other")
            #expect(mismatch.status == 500)
            #expect(mismatch.string("error") == "Transaction ID does not match")
            let wrong = try await c.step(first, body: #"{"username":"x","password":"incorrectpassword"}"#, txn: txn)
            #expect(wrong.status == 500)
            #expect(
                wrong.body
                    == "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Internal error in login step\",\"fi.mau.internal_error\":\"incorrect password\"}\n"
            )
            #expect(try await c.step(first, body: #"{"username":"x","password":"y"}"#).status == 404)

            let second = try await c.start("password")
            let done = try await c.step(second, body: #"{"username":"carol","password":"pw"}"#, txn: second.string("txn_id"))
            #expect(done.string("complete", "user_login_id") == "carol")
            #expect(done.string("txn_id")?.hasPrefix("bls_") == true)
            let finished = try await c.step(second, body: #"{"username":"carol","password":"pw"}"#)
            #expect(finished.status == 410)
            #expect(finished.string("errcode") == "FI.MAU.BRIDGE.LOGIN_ALREADY_FINISHED")

            let third = try await c.start("password")
            let cancel = try await c.call(.POST, "/v3/login/cancel/\(third.string("login_id")!)")
            #expect(cancel.status == 200)
            #expect(cancel.body == "{}")
            let cancelled = try await c.step(third, body: #"{"username":"x","password":"y"}"#)
            #expect(cancelled.status == 410)
            #expect(cancelled.string("errcode") == "FI.MAU.BRIDGE.LOGIN_CANCELLED")
            #expect(try await c.call(.POST, "/v3/login/cancel/nope").status == 404)
            let unknown = try await c.start("nosuchflow")
            #expect(unknown.string("fi.mau.internal_error") == #"unknown flow ID "nosuchflow""#)
        }
    }

    @Test func newLongPollSurvivesDisconnectAndReattaches() async throws {
        try await withFake(.new) { c in
            let qr = try await c.start("qr")
            let txn = try #require(qr.string("txn_id"))
            // The client gives up; the step keeps running.
            let abandoned = Task { try await c.step(qr, txn: txn) }
            await c.fake.waitForLongPolls(1)
            abandoned.cancel()
            await #expect(throws: (any Error).self) { try await abandoned.value }
            // Re-attach with the same txn_id, then scan while it waits.
            let poll = Task { try await c.step(qr, txn: txn) }
            await c.fake.waitForLongPolls(2)
            c.fake.scanQR()
            let done = try await poll.value
            #expect(done.status == 200)
            #expect(done.string("complete", "user_login_id") == "qr-user")

            // A refresh while nobody listens moves the step on; the old txn_id gets the new step.
            let qr2 = try await c.start("qr")
            let txn2 = try #require(qr2.string("txn_id"))
            let abandoned2 = Task { try await c.step(qr2, txn: txn2) }
            await c.fake.waitForLongPolls(3)
            abandoned2.cancel()
            await #expect(throws: (any Error).self) { try await abandoned2.value }
            await c.fake.waitUntilNoLongPollIsPending()
            c.fake.refreshQR()
            let current = try await c.step(qr2, txn: txn2)
            #expect(current.string("display_and_wait", "data") == "qr-payload-2")
            #expect(current.string("txn_id") != txn2)

            // Cancelling ends a pending long-poll with 410.
            let poll2 = Task { try await c.step(current, txn: current.string("txn_id")) }
            await c.fake.waitForLongPolls(4)
            #expect(try await c.call(.POST, "/v3/login/cancel/\(qr2.string("login_id")!)").status == 200)
            let ended = try await poll2.value
            #expect(ended.status == 410)
            #expect(ended.string("errcode") == "FI.MAU.BRIDGE.LOGIN_CANCELLED")
        }
    }

    // MARK: Faults

    @Test func faults() async throws {
        try await withFake(.old) { c in
            c.fake.setFault(.garbage)
            let garbage = try await c.call(.GET, "/v3/whoami")
            #expect(garbage.status == 200)
            #expect(garbage.json.isEmpty)

            c.fake.setFault(.slow(.milliseconds(300)))
            let started = ContinuousClock.now
            #expect(try await c.call(.GET, "/v3/logins").status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(300))

            c.fake.setFault(.hang)
            await #expect(throws: (any Error).self) { try await c.call(.GET, "/v3/logins", timeout: .milliseconds(300)) }

            // Open connections are closed at once; then the listener is gone. (AsyncHTTPClient
            // retries a refused connection until the request's deadline, hence the short timeouts.)
            c.fake.setFault(.refuseConnections)
            await #expect(throws: (any Error).self) { try await c.call(.GET, "/v3/logins", timeout: .seconds(1)) }
            await c.fake.settle()
            await #expect(throws: (any Error).self) { try await c.call(.GET, "/v3/logins", timeout: .seconds(1)) }
            let again = try await c.fake.start()
            #expect(again == c.base)
            #expect(try await c.call(.GET, "/v3/logins").status == 200)

            // Leaving the fault with setFault also brings the listener back.
            c.fake.setFault(.refuseConnections)
            await c.fake.settle()
            await #expect(throws: (any Error).self) { try await c.call(.GET, "/v3/logins", timeout: .seconds(1)) }
            c.fake.setFault(.none)
            await c.fake.settle()
            #expect(try await c.call(.GET, "/v3/logins").status == 200)
            #expect(c.fake.requests.filter { $0.hasPrefix("GET /_matrix/provision/v3/logins") }.count >= 4)
        }
    }

    @Test func stopEndsHungRequestsAndLongPolls() async throws {
        // A grace period longer than the time limit: were `stop()` to leave ending the hung
        // request and the long-poll to the watchdog, the test would run out of time.
        let fake = FakeProvisioningServer(generation: .new, shutdownGrace: .seconds(3600))
        let c = Client(fake: fake, base: try await fake.start())
        let qr = try await c.start("qr")
        let poll = Task { try await c.step(qr, txn: qr.string("txn_id")) }
        await fake.waitForLongPolls(1)
        fake.setFault(.hang)
        let hung = Task { try await c.call(.GET, "/v3/whoami") }
        await c.waitForRequests("GET /_matrix/provision/v3/whoami", count: 1)
        await fake.stop()
        await #expect(throws: (any Error).self) { try await poll.value }
        await #expect(throws: (any Error).self) { try await hung.value }

        // The same bridge comes back on the same URL, its login process still running: a client
        // re-attaches; a scan while nobody listens would finish it (then 410 ALREADY_FINISHED).
        fake.setFault(.none)
        #expect(try await fake.start() == c.base)
        let again = Task { try await c.step(qr, txn: qr.string("txn_id")) }
        await fake.waitForLongPolls(2)
        fake.scanQR()
        let done = try await again.value
        #expect(done.string("complete", "user_login_id") == "qr-user")
        let late = try await c.step(qr, txn: qr.string("txn_id"))
        #expect(late.status == 410)
        #expect(late.string("errcode") == "FI.MAU.BRIDGE.LOGIN_ALREADY_FINISHED")
        await fake.stop()
    }
}
