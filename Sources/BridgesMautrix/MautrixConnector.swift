import BridgesCore
import Foundation
import Logging

/// How to reach one mautrix bridgev2 bridge.
public struct MautrixBridgeConfiguration: Sendable {
    /// The bridge ID clients see.
    public var id: String
    /// The bridge's appservice listener, which serves `/_matrix/provision`.
    public var url: String
    public var sharedSecret: String
    /// The one Matrix user this bridge serves, for a bridge set up for one person; `nil` serves
    /// every user, each acting as themselves (each needs `login` permission on the bridge).
    public var userID: UserID?
    public var displayName: String?
    public var type: String?
    public var network: String?
    public var provider: BridgeProvider
    public var supportsMultipleAccounts: Bool
    public var connectTimeout: Duration
    public var readTimeout: Duration
    /// How old a `/v3/whoami` answer may be and still serve the bridge list and login reads:
    /// long enough that one listing asks the bridge once, short enough that a state change shows
    /// soon.
    public var whoamiCacheAge: Duration

    public init(
        id: String, url: String, sharedSecret: String, userID: UserID? = nil, displayName: String? = nil, type: String? = nil,
        network: String? = nil, provider: BridgeProvider = .selfHosted, supportsMultipleAccounts: Bool = true,
        connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(30),
        whoamiCacheAge: Duration = .seconds(2)
    ) {
        self.id = id
        self.url = url
        self.sharedSecret = sharedSecret
        self.userID = userID
        self.displayName = displayName
        self.type = type
        self.network = network
        self.provider = provider
        self.supportsMultipleAccounts = supportsMultipleAccounts
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.whoamiCacheAge = whoamiCacheAge
    }
}

/// A connector to a real bridge over the bridgev2 provisioning API. The bridge keeps the logins;
/// this connector keeps nothing on disk.
public final class MautrixConnector: BridgeConnector {
    let configuration: MautrixBridgeConfiguration
    let client: ProvisioningClient
    private let whoami: WhoamiCache
    let logger: Logger

    /// `clock` measures the age of the cached `/v3/whoami` answer; tests pass a manual one.
    public init(configuration: MautrixBridgeConfiguration, logger: Logger, clock: AnyClock = .continuous) {
        self.configuration = configuration
        self.logger = logger
        client = ProvisioningClient(
            baseURL: configuration.url, sharedSecret: configuration.sharedSecret, connectTimeout: configuration.connectTimeout, readTimeout: configuration.readTimeout)
        whoami = WhoamiCache(client: client, clock: clock)
    }

    public var bridgeID: String { configuration.id }

    /// A bridge's logins change without Bridges (a network drops an account, credentials
    /// expire), so the service looks again while anyone listens for events.
    public var changesOnItsOwn: Bool { true }

    public func shutdown() async {
        await client.shutdown()
    }

    public func serves(_ user: UserID) -> Bool {
        configuration.userID.map { $0 == user } ?? true
    }

    /// What the configuration alone says about the bridge, before the bridge is asked.
    private var configuredDescriptor: BridgeDescriptor {
        BridgeDescriptor(
            id: configuration.id, displayName: configuration.displayName ?? configuration.id,
            type: configuration.type ?? "mautrix", network: configuration.network, provider: configuration.provider,
            supportsMultipleAccounts: configuration.supportsMultipleAccounts)
    }

    /// The bridge's permissions refuse this user (others it may accept): the bridge is disabled
    /// for them, which no retry changes.
    private func refusal(of user: UserID, _ matrix: Provisioning.Error, name: String) -> BridgeDescriptor.Unavailability {
        .init(
            status: .disabled,
            reason: "\(name) does not let \(user) connect accounts (the bridge said: \(matrix.error)). Ask its operator for login permission.")
    }

    public func describe(for user: UserID) async -> BridgeDescriptor {
        var descriptor = configuredDescriptor
        do {
            let answer = try await whoami.value(for: user, maxAge: configuration.whoamiCacheAge)
            let network = answer.network
            descriptor.displayName = configuration.displayName ?? network?.displayname ?? configuration.id
            descriptor.type = configuration.type ?? network?.networkID ?? "mautrix"
            descriptor.network = configuration.network ?? network?.displayname
        } catch ProvisioningFailure.status(403, let matrix) where matrix.errcode == "M_FORBIDDEN" {
            descriptor.unavailable = refusal(of: user, matrix, name: descriptor.displayName)
        } catch {
            descriptor.unavailable = .init(status: .temporarilyUnavailable, reason: upstreamError(error, for: user).message)
        }
        return descriptor
    }

    /// From the cached `/v3/whoami`, which repeats the flows as `login_flows`: listing flows then
    /// costs no round trip, and a change on the bridge shows within the cache's age. Bridges whose
    /// whoami leaves them out are asked at `/v3/login/flows`.
    public func loginFlows(for user: UserID) async throws -> [LoginFlow] {
        let answer = try await call(for: user) { try await whoami.value(for: user, maxAge: configuration.whoamiCacheAge) }
        let flows: [Provisioning.Flow]
        if let listed = answer.loginFlows {
            flows = listed
        } else {
            flows = try await call(for: user) { () async throws -> Provisioning.Flows in try await client.get(["login", "flows"], for: user) }.flows
        }
        return flows.map { LoginFlow(id: $0.id, name: $0.name, description: $0.description) }
    }

    public func capabilities(for user: UserID) async throws -> JSONValue {
        var capabilities: JSONValue = try await call(for: user) { try await client.get(["capabilities"], for: user) }
        // A network without group creation sends null; the contract wants an object.
        if case .object(var object) = capabilities {
            if object["group_creation"] == nil || object["group_creation"] == .null { object["group_creation"] = .object([:]) }
            capabilities = .object(object)
        }
        return capabilities
    }

    public func logins(for user: UserID) async throws -> [Login] {
        let answer = try await call(for: user) { try await whoami.value(for: user, maxAge: configuration.whoamiCacheAge) }
        let network = configuration.network ?? answer.network?.displayname
        return (answer.logins ?? []).map { MautrixMapping.login($0, bridgeID: configuration.id, network: network, logger: logger) }
    }

    public func removeLogin(_ loginID: String, scope: RemoveScope, for user: UserID) async throws -> Login? {
        guard let login = try await logins(for: user).first(where: { $0.loginID == loginID }) else { return nil }
        do {
            let _: JSONValue = try await client.post(["logout", loginID], for: user)
        } catch ProvisioningFailure.status(404, _) {
            await whoami.invalidate(user)
            return nil
        } catch {
            throw upstreamError(error, for: user)
        }
        await whoami.invalidate(user)
        return login
    }

    public func startLogin(_ request: LoginStart) async throws -> StartedLogin {
        var query: [String: String] = [:]
        if let loginID = request.reconnectLoginID { query["login_id"] = loginID }
        let first: Provisioning.Step
        do {
            first = try await client.post(["login", "start", request.flowID], for: request.user, query: query)
        } catch let ProvisioningFailure.status(status, error) where status != 401 && status != 403 {
            throw MautrixLoginProcess.loginFailure(status: status, error)
        } catch {
            throw upstreamError(error, for: request.user)
        }
        let process = MautrixLoginProcess(connector: self, user: request.user, first: first)
        return StartedLogin(process: process, firstStep: try MautrixMapping.step(first))
    }

    /// Runs a call for a user, turning what the bridge did wrong into an upstream error (502 on
    /// the wire), and its refusing the user into the bridge being disabled for them.
    func call<Value>(for user: UserID, _ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch {
            throw upstreamError(error, for: user)
        }
    }

    func invalidateLogins(of user: UserID) async {
        await whoami.invalidate(user)
    }

    func upstreamError(_ error: any Error, for user: UserID) -> BridgesError {
        let name = "Bridge '\(configuration.id)'"
        switch error {
        case let domain as BridgesError:
            return domain
        case ProvisioningFailure.status(403, let matrix) where matrix.errcode == "M_FORBIDDEN":
            // As `describe(for:)` lists it: the same answer on every route, never a bridge failure.
            let descriptor = configuredDescriptor
            return .bridgeUnavailable(descriptor, refusal(of: user, matrix, name: descriptor.displayName))
        case ProvisioningFailure.transport(let reason):
            return BridgesError.upstream("\(name) is unreachable at \(configuration.url): \(reason).", code: "bridge_unreachable")
        case ProvisioningFailure.invalidResponse(let what):
            return BridgesError.upstream("\(name) answered \(what).", code: "invalid_bridge_response")
        case ProvisioningFailure.status(let status, let matrix) where status == 401 || status == 403:
            return BridgesError(
                .upstream, code: "bridge_auth_failed",
                message: "\(name) refused Bridges' credentials (\(matrix.errcode): \(matrix.error)). Check mautrix.sharedSecret and the bridge's permissions for this user.",
                details: ["errcode": .string(matrix.errcode)])
        case ProvisioningFailure.status(_, let matrix):
            var details: [String: JSONValue] = ["errcode": .string(matrix.errcode)]
            if let internalError = matrix.internalError { details["internalError"] = .string(internalError) }
            return BridgesError(.upstream, code: "bridge_error", message: "\(name) failed: \(matrix.error).", details: details)
        default:
            return BridgesError.upstream("\(name) failed: \(error).", code: "bridge_error")
        }
    }
}

/// Each user's last `/v3/whoami` answer, shared by every caller that can live with an answer
/// that is a moment old; concurrent callers wait for one request instead of each sending their own.
actor WhoamiCache {
    private struct Entry {
        var cached: (value: Provisioning.Whoami, at: AnyClock.Instant)?
        var inFlight: Task<Provisioning.Whoami, any Error>?
        var generation = 0
    }

    private let client: ProvisioningClient
    private let clock: AnyClock
    private var entries: [UserID: Entry] = [:]

    init(client: ProvisioningClient, clock: AnyClock) {
        self.client = client
        self.clock = clock
    }

    func value(for user: UserID, maxAge: Duration) async throws -> Provisioning.Whoami {
        var entry = entries[user, default: Entry()]
        if let cached = entry.cached, cached.at.duration(to: clock.now) <= maxAge { return cached.value }
        if let inFlight = entry.inFlight { return try await inFlight.value }
        let started = entry.generation
        let task = Task { [client] in try await client.get(["whoami"], for: user, as: Provisioning.Whoami.self) }
        entry.inFlight = task
        entries[user] = entry
        defer { if entries[user]?.generation == started { entries[user]?.inFlight = nil } }
        let value = try await task.value
        if entries[user]?.generation == started { entries[user]?.cached = (value, clock.now) }
        return value
    }

    /// Forgets the user's answer after a change (a login completed or removed).
    func invalidate(_ user: UserID) {
        entries[user, default: Entry()].generation += 1
        entries[user]?.cached = nil
        entries[user]?.inFlight = nil
    }
}
