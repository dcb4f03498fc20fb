import AsyncHTTPClient
import BridgesCore
import Foundation
import HTTPTransport
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// Confirms who someone is with their Matrix homeserver, and keeps nothing of it: a password
/// sign-in logs in, asks whoami, and logs that session out again; an access token is only
/// asked whoami. Passwords and tokens are never logged and never part of an error.
///
/// Every user it confirms is a user of the homeserver's own server name, and never a guest:
/// when the setting names the server (`example.com`), that name; when it is a base URL, the name
/// of the first user the homeserver confirms (a homeserver only vouches for its own users).
public final class MatrixSignInClient: Sendable {
    /// What a password sign-in names its short-lived Matrix session, should anyone see it.
    public static let deviceDisplayName = "Bridges sign-in"

    public let homeserver: HomeserverLocation
    private let timeout: Duration
    private let wellKnownScheme: String
    private let http: HTTPClient
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        /// The client API's base URL, once known (at once for a base URL, after discovery for a
        /// server name).
        var baseURL: String?
        /// The server name learned from the homeserver, when the setting did not say it.
        var learnedServerName: String?
    }

    /// - Parameters:
    ///   - homeserver: Where the homeserver is (`matrix.homeserver`).
    ///   - timeout: The longest each request to the homeserver may take, connecting included.
    ///   - wellKnownScheme: How a server name's `/.well-known/matrix/client` is fetched: `https`,
    ///     as the specification says; tests serve it over plain `http`.
    public init(
        homeserver: HomeserverLocation, timeout: Duration = .seconds(10), wellKnownScheme: String = "https",
        logger: Logger
    ) {
        self.homeserver = homeserver
        self.timeout = timeout
        self.wellKnownScheme = wellKnownScheme
        self.logger = logger
        if case .baseURL(let url) = homeserver { state.withLock { $0.baseURL = url } }
        // A refused connection fails at once instead of being retried until the deadline: a
        // person is waiting, and "cannot reach the homeserver" is the answer.
        var configuration = HTTPClient.Configuration(timeout: .init(connect: TimeAmount(timeout), read: TimeAmount(timeout)))
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// The server name of the homeserver's users, when the setting says it or a confirmed
    /// sign-in has shown it; `nil` before that.
    public var serverName: String? {
        homeserver.serverName ?? state.withLock { $0.learnedServerName }
    }

    /// Signs in with a password and returns the user the homeserver confirmed. The Matrix
    /// session this opens is logged out again whatever happens after the login, cancellation
    /// included.
    ///
    /// - Throws: ``MatrixSignInFailure``, or `CancellationError`.
    public func signIn(user: UserID, password: String) async throws -> UserID {
        if let serverName, user.serverName != serverName {
            throw MatrixSignInFailure.foreignUser(user, homeserver: serverName)
        }
        let base = try await baseURL()
        let login = MatrixWire.PasswordLogin(
            identifier: .init(user: user.rawValue), password: password, initialDeviceDisplayName: Self.deviceDisplayName)
        let answer = try await send(.POST, base + "/_matrix/client/v3/login", body: try JSONEncoder().encode(login))
        guard answer.status == 200 else { throw Self.failure(answer, during: "login") }
        let session: MatrixWire.LoginResponse = try Self.decode(answer, during: "login")

        let confirmed: Result<UserID, any Error>
        do {
            confirmed = .success(try await whoAmI(token: session.accessToken, base: base))
        } catch {
            confirmed = .failure(error)
        }
        await logOut(token: session.accessToken, deviceID: session.deviceID, base: base)

        let confirmedUser: UserID
        switch confirmed {
        case .success(let value):
            confirmedUser = value
        case .failure(MatrixSignInFailure.wrongCredentials):
            throw MatrixSignInFailure.unexpectedAnswer("whoami refused the access token login had just issued")
        case .failure(let error):
            throw error
        }
        guard Self.isSameUser(requested: user, confirmed: confirmedUser) else {
            throw MatrixSignInFailure.userMismatch(requested: user, confirmed: confirmedUser.rawValue)
        }
        return try admit(confirmedUser)
    }

    /// Confirms an access token of an existing Matrix session and returns its user. The session
    /// is the user's own, so it is left as it is.
    ///
    /// - Throws: ``MatrixSignInFailure``, or `CancellationError`.
    public func signIn(matrixAccessToken: String) async throws -> UserID {
        let base = try await baseURL()
        return try admit(try await whoAmI(token: matrixAccessToken, base: base))
    }

    /// The client API's base URL: the setting's, or the one the server name's
    /// `/.well-known/matrix/client` names (kept after the first success). A server name without
    /// that file (404) is its own homeserver at `https://<name>`.
    public func baseURL() async throws -> String {
        if let known = state.withLock({ $0.baseURL }) { return known }
        guard case .serverName(let name) = homeserver else {
            throw MatrixSignInFailure.discoveryFailed("no base URL")  // a base URL is set in init
        }
        let answer = try await send(.GET, "\(wellKnownScheme)://\(name)/.well-known/matrix/client")
        let base: String
        switch answer.status {
        case 200:
            guard let wellKnown = try? JSONDecoder().decode(MatrixWire.WellKnown.self, from: answer.body) else {
                throw MatrixSignInFailure.discoveryFailed("\(name)'s /.well-known/matrix/client is not the expected JSON")
            }
            guard let named = wellKnown.homeserver?.baseURL, case .baseURL(let url)? = HomeserverLocation(named) else {
                throw MatrixSignInFailure.discoveryFailed("\(name)'s /.well-known/matrix/client names no http(s) m.homeserver base_url")
            }
            base = url
        case 404:
            base = "\(wellKnownScheme)://\(name)"
        default:
            throw MatrixSignInFailure.discoveryFailed("\(name)'s /.well-known/matrix/client answered HTTP \(answer.status)")
        }
        logger.info("Found the homeserver", metadata: ["serverName": "\(name)", "baseURL": "\(base)"])
        state.withLock { $0.baseURL = base }
        return base
    }

    // MARK: - Steps

    private func whoAmI(token: String, base: String) async throws -> UserID {
        let answer = try await send(.GET, base + "/_matrix/client/v3/account/whoami", token: token)
        guard answer.status == 200 else { throw Self.failure(answer, during: "whoami") }
        let whoAmI: MatrixWire.WhoAmI = try Self.decode(answer, during: "whoami")
        guard let user = UserID(whoAmI.userID) else {
            throw MatrixSignInFailure.unexpectedAnswer("whoami named '\(whoAmI.userID)', which is not a Matrix user ID")
        }
        if whoAmI.isGuest == true { throw MatrixSignInFailure.guestAccount(user) }
        return user
    }

    /// Runs apart from the caller's task, so a cancelled sign-in (the person gave up, the
    /// request was dropped) still ends the Matrix session it opened.
    private func logOut(token: String, deviceID: String?, base: String) async {
        let logout = Task { try await self.send(.POST, base + "/_matrix/client/v3/logout", token: token, body: Data("{}".utf8)) }
        let device: Logger.MetadataValue = "\(deviceID ?? "unknown")"
        do {
            let answer = try await logout.value
            if answer.status != 200 {
                logger.warning(
                    "The homeserver did not end the sign-in's Matrix session; it can be removed from the user's sessions",
                    metadata: ["device": device, "status": "\(answer.status)"])
            }
        } catch {
            logger.warning(
                "Could not end the sign-in's Matrix session; it can be removed from the user's sessions",
                metadata: ["device": device, "reason": "\(TransportFailure(classifying: error))"])
        }
    }

    /// The homeserver's users only: its name is the setting's, or learned from the first one.
    private func admit(_ user: UserID) throws -> UserID {
        let expected = homeserver.serverName ?? state.withLock { state in
            if state.learnedServerName == nil { state.learnedServerName = user.serverName }
            return state.learnedServerName
        }
        if let expected, user.serverName != expected {
            throw MatrixSignInFailure.foreignUser(user, homeserver: expected)
        }
        return user
    }

    /// Homeservers match the user part of a login case-insensitively and answer the account's
    /// own ID (Synapse signs `@Alice:example.com` in as `@alice:example.com`); that is the same
    /// person. Anything else is not.
    static func isSameUser(requested: UserID, confirmed: UserID) -> Bool {
        requested == confirmed
            || (requested.serverName == confirmed.serverName && requested.localpart.lowercased() == confirmed.localpart)
    }

    // MARK: - HTTP

    private struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: Data
    }

    private func send(_ method: HTTPMethod, _ url: String, token: String? = nil, body: Data? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        do {
            let response = try await http.execute(request, timeout: TimeAmount(timeout))
            let collected = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: collected))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw MatrixSignInFailure.unreachable(TransportFailure(classifying: error))
        }
    }

    private static func decode<Value: Decodable>(_ answer: Answer, during step: String) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: answer.body)
        } catch {
            throw MatrixSignInFailure.unexpectedAnswer("\(step) answered a body that is not the expected JSON")
        }
    }

    /// An error answer, by its `errcode` where the specification gives one a meaning.
    private static func failure(_ answer: Answer, during step: String) -> MatrixSignInFailure {
        let error = try? JSONDecoder().decode(MatrixWire.Error.self, from: answer.body)
        let code = error?.errcode
        switch (answer.status, code) {
        case (_, "M_LIMIT_EXCEEDED"), (429, _):
            let fromBody = error?.retryAfterMilliseconds.map { Duration.milliseconds(max(0, $0)) }
            let fromHeader = answer.headers.first(name: "Retry-After").flatMap(Int64.init).map { Duration.seconds(max(0, $0)) }
            return .rateLimited(retryAfter: fromBody ?? fromHeader)
        case (_, "M_USER_DEACTIVATED"):
            return .userDeactivated
        case (401, _), (403, "M_FORBIDDEN"), (403, "M_UNKNOWN_TOKEN"), (403, "M_MISSING_TOKEN"), (403, nil):
            return .wrongCredentials
        default:
            return .unexpectedAnswer("\(step) answered HTTP \(answer.status)" + (code.map { " (\($0))" } ?? ""))
        }
    }
}
