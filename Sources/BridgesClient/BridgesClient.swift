import AsyncHTTPClient
import BridgesAPI
import Foundation
import HTTPTypes
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

public typealias Bridge = Components.Schemas.Bridge
public typealias Account = Components.Schemas.Account
public typealias BridgeLogin = Components.Schemas.BridgeLogin
public typealias LoginFlow = Components.Schemas.LoginFlow
public typealias LoginSession = Components.Schemas.LoginSession
public typealias LoginSessionCancelResponse = Components.Schemas.LoginSessionCancelResponse
public typealias LoginRemoveResponse = Components.Schemas.LoginRemoveResponse
public typealias ProvisioningCapabilities = Components.Schemas.ProvisioningCapabilities
public typealias ServerInfo = Components.Schemas.Info
public typealias RemoveScope = Components.Schemas.RemoveScope
public typealias StepType = Components.Schemas.LoginStepSubmitRequest._TypePayload
public typealias StepSource = Components.Schemas.LoginStepSubmitRequest.SourcePayload

/// A client for the `/v1/bridges` API of Bridges or of Beeper Desktop, shaped like Beeper's
/// official SDKs: `client.bridges.list()`, `client.bridges.loginSessions.create(...)`, and so on.
///
/// ```swift
/// let client = try BridgesClient()              // BEEPER_ACCESS_TOKEN, BEEPER_BASE_URL
/// for bridge in try await client.bridges.list() { print(bridge.displayName, bridge.status) }
/// ```
public struct BridgesClient: Sendable {
    /// The server this client talks to.
    public let baseURL: URL
    /// Bridges, their flows, logins and login sessions.
    public var bridges: Bridges { Bridges(api: api, events: eventSource) }
    /// The chat accounts connected through every bridge.
    public let accounts: Accounts
    let api: Client
    /// `nil` for a client made with ``withoutAccessToken(baseURL:timeout:maxRetries:environment:)``.
    let accessToken: String?
    let maxRetries: Int
    /// How ``events(bridgeIDs:loginSessionIDs:)`` waits before reconnecting; tests replace it so
    /// that nothing waits on the wall clock.
    public var eventSleep: EventStreamSleep = { try await Task.sleep(for: $0) }
    /// The events endpoint; tests point it elsewhere to stand in for a server without one.
    var eventsPath = "/v1/ws"

    /// The default server, where Beeper Desktop and `bridges serve` listen.
    public static let defaultBaseURL = "http://localhost:23373"

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - accessToken: The bearer token; defaults to the `BEEPER_ACCESS_TOKEN` environment variable.
    ///   - baseURL: The server; defaults to `BEEPER_BASE_URL`, then `http://localhost:23373`.
    ///   - timeout: How long one request may take before it is abandoned (and perhaps retried).
    ///   - maxRetries: How often a request is retried after a connection error, a timeout, or an
    ///     answer of 408, 409, 429 or 5xx, with exponential backoff and jitter. The official SDKs
    ///     retry twice.
    ///   - environment: Where to read the defaults from; the process environment unless given.
    /// - Throws: ``BridgesClientError/missingAccessToken`` when no token is given or set, and
    ///   ``BridgesClientError/invalidBaseURL(_:)`` for a base URL that is not an http(s) URL.
    public init(
        accessToken: String? = nil, baseURL: String? = nil, timeout: Duration = .seconds(30), maxRetries: Int = 2,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(BridgesClientError) {
        guard let token = accessToken ?? environment["BEEPER_ACCESS_TOKEN"], !token.isEmpty else {
            throw .missingAccessToken
        }
        try self.init(token: token, baseURL: baseURL, timeout: timeout, maxRetries: maxRetries, environment: environment)
    }

    /// A client that sends no token, for the calls that need none: ``info()`` and
    /// ``signIn(userID:password:tokenName:)``, which is how a token is got in the first place.
    /// Every other call answers ``APIStatusError/Kind/authentication``.
    ///
    /// - Parameters: as ``init(accessToken:baseURL:timeout:maxRetries:environment:)``.
    /// - Throws: ``BridgesClientError/invalidBaseURL(_:)`` for a base URL that is not an http(s) URL.
    public static func withoutAccessToken(
        baseURL: String? = nil, timeout: Duration = .seconds(30), maxRetries: Int = 2,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(BridgesClientError) -> BridgesClient {
        try BridgesClient(token: nil, baseURL: baseURL, timeout: timeout, maxRetries: maxRetries, environment: environment)
    }

    private init(
        token: String?, baseURL: String?, timeout: Duration, maxRetries: Int, environment: [String: String]
    ) throws(BridgesClientError) {
        let base = baseURL ?? environment["BEEPER_BASE_URL"] ?? Self.defaultBaseURL
        guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw .invalidBaseURL(base)
        }
        self.baseURL = url
        self.accessToken = token
        self.maxRetries = max(0, maxRetries)
        let transport = ClassifyingTransport(
            base: AsyncHTTPClientTransport(configuration: .init(client: sdkHTTPClient, timeout: TimeAmount(timeout))))
        // Outermost first: the error body is read once the retries are spent.
        var middlewares: [any ClientMiddleware] = [ErrorBodyMiddleware(), RetryMiddleware(maxRetries: max(0, maxRetries))]
        if let token { middlewares.append(BearerTokenMiddleware(token: token)) }
        api = Client(serverURL: url, transport: transport, middlewares: middlewares)
        accounts = Accounts(api: api)
    }

    /// Information about the server (`GET /v1/info`, which needs no token).
    public func info() async throws(BridgesClientError) -> ServerInfo {
        try await call { try await api.getInfo().ok.body.json }
    }

    /// Bridges: `client.bridges`.
    public struct Bridges: Sendable {
        let api: Client
        let events: EventSource
        /// Each bridge's login flows.
        public var loginFlows: LoginFlows { LoginFlows(api: api) }
        /// Each bridge's logins.
        public var logins: Logins { Logins(api: api) }
        /// Login sessions, which connect or reconnect an account.
        public var loginSessions: LoginSessions { LoginSessions(api: api) }

        /// Every bridge that can connect a new account or reconnect an existing one.
        public func list() async throws(BridgesClientError) -> [Bridge] {
            try await call { try await api.listBridges().ok.body.json.items }
        }

        /// One bridge.
        public func retrieve(_ bridgeID: String) async throws(BridgesClientError) -> Bridge {
            try await call { try await api.getBridge(path: .init(bridgeID: bridgeID)).ok.body.json }
        }

        /// The bridge's network capabilities (mautrix bridgev2 provisioning capabilities).
        public func capabilities(_ bridgeID: String) async throws(BridgesClientError) -> ProvisioningCapabilities {
            try await call { try await api.getBridgeCapabilities(path: .init(bridgeID: bridgeID)).ok.body.json }
        }
    }

    /// `client.bridges.loginFlows`.
    public struct LoginFlows: Sendable {
        let api: Client

        /// The ways to sign in on a bridge; pass one's `id` as `flowID` when creating a session.
        public func list(bridgeID: String) async throws(BridgesClientError) -> [LoginFlow] {
            try await call { try await api.listLoginFlows(path: .init(bridgeID: bridgeID)).ok.body.json.items }
        }
    }

    /// `client.bridges.logins`.
    public struct Logins: Sendable {
        let api: Client

        /// The bridge's logins.
        public func list(bridgeID: String) async throws(BridgesClientError) -> [BridgeLogin] {
            try await call { try await api.listLogins(path: .init(bridgeID: bridgeID)).ok.body.json.items }
        }

        /// One login.
        public func retrieve(_ loginID: String, bridgeID: String) async throws(BridgesClientError) -> BridgeLogin {
            try await call { try await api.getLogin(path: .init(bridgeID: bridgeID, loginID: loginID)).ok.body.json }
        }

        /// Removes a login, from this device or from all devices; offer only the login's `removeScopes`.
        public func remove(
            _ loginID: String, bridgeID: String, scope: RemoveScope
        ) async throws(BridgesClientError) -> LoginRemoveResponse {
            try await call {
                try await api.removeLogin(path: .init(bridgeID: bridgeID, loginID: loginID), body: .json(.init(scope: scope)))
                    .ok.body.json
            }
        }
    }

    /// `client.bridges.loginSessions`.
    public struct LoginSessions: Sendable {
        let api: Client
        /// Submitting a session's steps.
        public var steps: Steps { Steps(api: api) }

        /// Starts a login session: a new account, or a reconnect with `loginID` or `accountID`.
        /// Without `flowID` the bridge's first flow is used.
        public func create(
            bridgeID: String, flowID: String? = nil, loginID: String? = nil, accountID: String? = nil
        ) async throws(BridgesClientError) -> LoginSession {
            try await call {
                try await api.createLoginSession(
                    path: .init(bridgeID: bridgeID), body: .json(.init(accountID: accountID, flowID: flowID, loginID: loginID))
                ).ok.body.json
            }
        }

        /// The session's current state; poll it while a code is on screen.
        public func retrieve(_ loginSessionID: String, bridgeID: String) async throws(BridgesClientError) -> LoginSession {
            try await call {
                try await api.getLoginSession(path: .init(bridgeID: bridgeID, loginSessionID: loginSessionID)).ok.body.json
            }
        }

        /// Cancels the session.
        public func cancel(
            _ loginSessionID: String, bridgeID: String
        ) async throws(BridgesClientError) -> LoginSessionCancelResponse {
            try await call {
                try await api.cancelLoginSession(path: .init(bridgeID: bridgeID, loginSessionID: loginSessionID)).ok.body.json
            }
        }
    }

    /// `client.bridges.loginSessions.steps`.
    public struct Steps: Sendable {
        let api: Client

        /// Submits the session's current step. For `display_and_wait` it returns when the step
        /// changes, or after a while with the session unchanged.
        public func submit(
            _ stepID: String, bridgeID: String, loginSessionID: String, type: StepType, fields: [String: String]? = nil,
            lastURL: String? = nil, source: StepSource? = nil
        ) async throws(BridgesClientError) -> LoginSession {
            try await call {
                try await api.submitLoginStep(
                    path: .init(bridgeID: bridgeID, loginSessionID: loginSessionID, stepID: stepID),
                    body: .json(
                        .init(
                            _type: type, fields: fields.map { .init(additionalProperties: $0) }, lastURL: lastURL, source: source))
                ).ok.body.json
            }
        }
    }

    /// `client.accounts`.
    public struct Accounts: Sendable {
        let api: Client

        /// Every connected chat account.
        public func list() async throws(BridgesClientError) -> [Account] {
            try await call { try await api.listAccounts().ok.body.json }
        }

        /// One account.
        public func retrieve(_ accountID: String) async throws(BridgesClientError) -> Account {
            try await call { try await api.getAccount(path: .init(accountID: accountID)).ok.body.json }
        }
    }
}

/// Runs one API call and gives every failure the one error type of this SDK.
func call<Value>(_ body: () async throws -> Value) async throws(BridgesClientError) -> Value {
    do {
        return try await body()
    } catch {
        throw BridgesClientError(error)
    }
}

/// The one HTTP client of every ``BridgesClient`` in the process (it lives as long as the process,
/// so it needs no shutdown). Retries are ``RetryMiddleware``'s job, with the official SDKs' backoff:
/// the client's own retrying of refused connections, which lasts until the request's deadline,
/// would turn "the server is not running" into a half-minute hang.
let sdkHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
    configuration.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()
