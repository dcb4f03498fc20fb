import BridgesCore
import BridgesDemo
import BridgesTestSupport
import BridgesWeb
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

/// The page on a router of its own, over the demo networks, with a sign-in the test controls.
/// Requests go through HummingbirdTesting's router client, which names the host `localhost`.
struct PageHarness: Sendable {
    static let token = "page-test-token-0123456789"
    static let owner = UserID("@owner:localhost")!

    let client: any TestClientProtocol
    let page: WebPage
    let service: BridgesService
    let approvals: DemoApprovals
    let revoked: RevokedTokens

    static func run<Value: Sendable>(
        clock: AnyClock = .continuous, password: Bool = false, connectors extra: [any BridgeConnector] = [],
        _ body: @Sendable (PageHarness) async throws -> Value
    ) async throws -> Value {
        let store = InMemoryStore()
        let demo = DemoEnvironment(
            options: DemoOptions(publicURL: { "http://localhost" }, qrRefresh: .seconds(3600), nothingDelay: .seconds(3600), clock: clock),
            store: store)
        let logger = Logger(label: "page-test") { _ in SwiftLogNoOpLogHandler() }
        let service = BridgesService(connectors: demo.connectors() + extra, store: store, clock: clock, logger: logger)
        let revoked = RevokedTokens()
        let signIn = PageSignIn(
            token: { secret in secret == token ? PageIdentity(user: owner, tokenID: "tok_test") : nil },
            isStillValid: { identity in !revoked.contains(identity.tokenID) },
            password: password
                ? { @Sendable user, secret throws(PasswordSignInFailure) in
                    guard user == "@owner:localhost", secret == "correct horse" else { throw .rejected }
                    return PageIdentity(user: owner, tokenID: "tok_matrix")
                } : nil)
        let page = try await WebPage(service: service, signIn: signIn, sessions: PageSessions(clock: clock), logger: logger)
        let router = Router()
        page.register(on: router)
        let app = Application(router: router, logger: logger)
        return try await app.test(.router) { client in
            try await body(PageHarness(client: client, page: page, service: service, approvals: demo.approvals, revoked: revoked))
        }
    }
}

/// A bridge that cannot be reached, as a real one behind the network sometimes cannot.
struct UnreachableConnector: BridgeConnector {
    static let failure = BridgesError.upstream("The bridge at http://127.0.0.1:9 did not answer (connection refused).")

    let bridgeID = "sh-down"
    func describe(for user: UserID) async -> BridgeDescriptor {
        BridgeDescriptor(id: bridgeID, displayName: "Down Bridge", type: "down", provider: .selfHosted, supportsMultipleAccounts: true)
    }
    func loginFlows(for user: UserID) async throws -> [LoginFlow] { throw Self.failure }
    func capabilities(for user: UserID) async throws -> JSONValue { throw Self.failure }
    func logins(for user: UserID) async throws -> [Login] { throw Self.failure }
    func removeLogin(_ loginID: String, scope: RemoveScope, for user: UserID) async throws -> Login? { throw Self.failure }
    func startLogin(_ request: LoginStart) async throws -> StartedLogin { throw Self.failure }
}

/// Token IDs the test has revoked; the page asks on every request.
final class RevokedTokens: Sendable {
    private let ids = Mutex<Set<String>>([])
    func revoke(_ id: String) { ids.withLock { _ = $0.insert(id) } }
    func contains(_ id: String) -> Bool { ids.withLock { $0.contains(id) } }
}

/// A page response, read as a browser would need it.
struct PageResponse {
    var status: Int
    var headers: HTTPFields
    var body: String

    var location: String? { headers[.location] }
    var setCookies: [String] { headers[values: .setCookie] }

    /// The value of a hidden input, as the page's forms carry them.
    func hidden(_ name: String) -> String? {
        guard let range = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// A browser of one: keeps cookies, sends the same-origin headers a browser sends with a form.
final class TestBrowser: Sendable {
    let harness: PageHarness
    private let cookies = Mutex<[String: String]>([:])

    init(_ harness: PageHarness) {
        self.harness = harness
    }

    func cookie(_ name: String) -> String? { cookies.withLock { $0[name] } }

    func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> PageResponse {
        try await send(path, method: .get, body: nil, headers: extra)
    }

    /// A form post; `origin` is what the browser names as the page the form came from.
    func post(_ path: String, form: [(String, String)], origin: String? = "http://localhost", headers extra: HTTPFields = [:]) async throws -> PageResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let origin { headers[.origin] = origin }
        let body = form.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(path, method: .post, body: body, headers: headers)
    }

    /// Signs in with the test token through the sign-in form.
    @discardableResult
    func signIn(token: String = PageHarness.token, next: String = "/") async throws -> PageResponse {
        let form = try await get("/signin")
        let nonce = form.hidden("nonce") ?? ""
        return try await post("/signin", form: [("method", "token"), ("nonce", nonce), ("next", next), ("token", token)])
    }

    /// The CSRF token the signed-in pages put in their forms.
    func csrf() async throws -> String {
        try await get("/").hidden("csrf") ?? ""
    }

    private func send(_ path: String, method: HTTPRequest.Method, body: String?, headers extra: HTTPFields) async throws -> PageResponse {
        var headers = extra
        let jar = cookies.withLock { $0 }
        if !jar.isEmpty { headers[.cookie] = jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await harness.client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for line in response.headers[values: .setCookie] {
            guard let pair = line.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals]).trimmingCharacters(in: .whitespaces)
            let value = String(pair[pair.index(after: equals)...])
            let expired = line.lowercased().contains("max-age=0")
            cookies.withLock { $0[name] = expired ? nil : value }
        }
        return PageResponse(
            status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
    }

    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
