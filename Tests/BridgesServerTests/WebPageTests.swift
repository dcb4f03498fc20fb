import AsyncHTTPClient
import BridgesCore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOWebSocket
import WSCore
import Testing

/// The web page as `buildApplication` mounts it: beside the API, signed in with a real access
/// token, and followed live on `/v1/ws` with its session cookie.
@Suite(.timeLimit(.minutes(2))) struct WebPageTests {
    /// A client that shows redirects instead of following them, as the tests check where they go.
    static func withClient<Value>(_ body: (HTTPClient) async throws -> Value) async throws -> Value {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func send(
        _ client: HTTPClient, _ method: HTTPMethod, _ url: String, headers: [String: String] = [:], form: String? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), response.headers, String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    /// Signs in through the form and returns the page session's cookie (`name=value`).
    static func signIn(_ client: HTTPClient, server: TestServer, token: String) async throws -> String? {
        let form = try await send(client, .GET, server.baseURL + "/signin")
        let nonceCookie = form.headers["set-cookie"].first { $0.hasPrefix("bridges_signin=") }?.split(separator: ";").first.map(String.init) ?? ""
        let nonce = form.body.range(of: "name=\"nonce\" value=\"").map { String(form.body[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
        let response = try await send(
            client, .POST, server.baseURL + "/signin", headers: ["Cookie": nonceCookie, "Origin": server.baseURL],
            form: "method=token&nonce=\(nonce)&next=%2F&token=\(encoded)")
        return response.headers["set-cookie"].first { $0.hasPrefix("bridges_page=") }?.split(separator: ";").first.map(String.init)
    }

    @Test func thePageSignsInWithAnAccessTokenBesideTheAPI() async throws {
        try await TestServer.run { server in
            try await Self.withClient { client in
                let signedOut = try await Self.send(client, .GET, server.baseURL + "/")
                #expect(signedOut.status == 303)
                #expect(signedOut.headers["location"].first == "/signin")
                #expect(try await Self.signIn(client, server: server, token: "wrong") == nil)
                let cookie = try #require(try await Self.signIn(client, server: server, token: server.token))
                let page = try await Self.send(client, .GET, server.baseURL + "/", headers: ["Cookie": cookie])
                #expect(page.status == 200)
                #expect(page.body.contains("Demo Messenger"))
                #expect(!page.body.contains(server.token))
                #expect(page.headers["cache-control"].first == "no-store")
                // The API keeps its bearer auth: the page's cookie opens nothing there.
                let api = try await Self.send(client, .GET, server.baseURL + "/v1/bridges", headers: ["Cookie": cookie])
                #expect(api.status == 401)
                #expect(api.body.contains("\"code\":\"unauthorized\""))
                // The API's own errors stay JSON.
                let unknown = try await Self.send(client, .GET, server.baseURL + "/v1/nothing")
                #expect(unknown.headers["content-type"].first?.hasPrefix("application/json") == true)
            }
        }
    }

    /// The socket taking the cookie from the page's own origin is checked in a real browser
    /// (Tests/web); the test client here always sends an `Origin` of its own as well.
    @Test func theEventsSocketRefusesThePageCookieFromAnotherOrigin() async throws {
        try await TestServer.run { server in
            let cookie = try #require(try await Self.withClient { try await Self.signIn($0, server: server, token: server.token) })
            // Another site's script with the visitor's cookie gets no socket: it must bring a token.
            let other = EventsProbe(server: server, headers: [.cookie: cookie, .origin: "http://evil.example"])
            other.send(#"{"type":"authenticate","token":"nope"}"#)
            #expect(try await other.connection.value?.closeCode == .init(codeNumber: 4401))

            let noOrigin = EventsProbe(server: server, headers: [.cookie: cookie])
            noOrigin.send(#"{"type":"authenticate","token":"nope"}"#)
            #expect(try await noOrigin.connection.value?.closeCode == .init(codeNumber: 4401))
        }
    }
}
