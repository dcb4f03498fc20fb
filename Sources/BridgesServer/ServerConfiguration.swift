import BridgesCore
import BridgesDemo
import BridgesMatrix
import BridgesMautrix
import Configuration
import Foundation

/// Everything `bridges serve` can be told. Read from, in order of precedence: command-line
/// flags, environment variables (`BRIDGES_` + the key in upper snake case), the YAML file given
/// with `--config`, and the defaults below.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 23373
    public var dataDirectory: URL
    /// The URL clients use to reach this server; defaults to `http://<host>:<port>`. The demo's
    /// QR codes and pages point here, so set it when clients reach the server another way.
    public var publicURL: String?
    /// An extra accepted token from `BRIDGES_ACCESS_TOKEN`, never stored.
    public var environmentToken: String?
    public var sessionIdleTimeout: Duration = .seconds(600)
    public var displayWait: Duration = .seconds(20)
    public var finishedSessionRetention: Duration = .seconds(60)
    public var demoEnabled = true
    public var demoQRRefresh: Duration = .seconds(30)
    public var demoNothingDelay: Duration = .seconds(3)
    public var logLevel = "info"
    /// Listening on an address other than loopback must be asked for explicitly.
    public var allowRemoteAccess = false
    /// The largest request body accepted; larger ones get 413.
    public var maxBodyBytes = 1 << 20
    /// Live (unfinished) login sessions allowed per bridge, per user and in all.
    public var maxSessionsPerBridge = 32
    public var maxSessionsPerUser = 16
    public var maxSessionsTotal = 256
    /// Who the data of a single-person server belongs to: tokens and demo logins made before
    /// there were users, the `BRIDGES_ACCESS_TOKEN` token, and the first start's token.
    /// Defaults to the first bridge entry's `mautrix.userID`, else `@owner:localhost`.
    public var owner = UserID.defaultOwner
    /// The homeserver people sign in with (`matrix.homeserver`): a base URL, or a server name
    /// whose `/.well-known/matrix/client` names it. `nil`: no Matrix sign-in.
    public var matrixHomeserver: HomeserverLocation?
    /// Who may sign in (`users.allow`: glob patterns over Matrix user IDs); not set: every
    /// user the homeserver vouches for.
    public var signInAdmission = SignInAdmission.homeserverUsers
    /// Requests per minute per token; `nil` means the default: off on loopback, 600 otherwise.
    public var requestsPerMinute: Int?
    /// Events a `/v1/ws` subscriber may fall behind by before it is closed.
    public var eventBufferSize = 256
    /// How often bridges whose logins change on their own are looked at while anyone subscribes.
    public var eventRefresh: Duration = .seconds(30)

    /// Whether `host` is a loopback address, reachable only from this machine.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The rate limit in force: the configured one, or the default for the bind address.
    public var effectiveRequestsPerMinute: Int {
        requestsPerMinute ?? (isLoopback ? 0 : 600)
    }
    /// Real bridges, from the `bridges:` list of the configuration file.
    public var mautrixBridges: [MautrixBridgeConfiguration] = []

    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }

    /// The URL that this configuration's server answers on.
    public func baseURL(port actualPort: Int? = nil) -> String {
        if let publicURL { return publicURL }
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let bracketed = shownHost.contains(":") ? "[\(shownHost)]" : shownHost
        return "http://\(bracketed):\(actualPort ?? port)"
    }

    /// A per-user application-data folder: `$XDG_DATA_HOME/bridges`, `~/.local/share/bridges`,
    /// or on macOS `~/Library/Application Support/Bridges`.
    public static func defaultDataDirectory() -> URL {
        #if os(macOS)
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent("Library/Application Support/Bridges", isDirectory: true)
        #else
        if let xdg = ProcessInfo.processInfo.environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("bridges", isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".local/share/bridges", isDirectory: true)
        #endif
    }

    /// Reads the configuration. `overrides` holds the command-line flags that were given, keyed
    /// like the file (`port`, `dataDir`, ...); they win over everything else.
    public static func load(
        configFile: String?, overrides: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ServerConfiguration {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "command line",
                values: Dictionary(uniqueKeysWithValues: overrides.map { (AbsoluteConfigKey($0.key.split(separator: ".").map(String.init)), ConfigValue(.string($0.value), isSecret: false)) })),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(["BRIDGES_ACCESS_TOKEN"])
            ).prefixKeys(with: "bridges"),
        ]
        var file: ConfigurationFile?
        if let configFile {
            let parsed = try ConfigurationFile(path: configFile)
            providers.append(InMemoryProvider(name: configFile, values: parsed.values))
            file = parsed
        }
        let reader = ConfigReader(providers: providers)

        func seconds(_ key: String, default value: Duration) throws -> Duration {
            guard let text = reader.string(forKey: ConfigKey(key)) else { return value }
            return try ConfigurationValue.seconds(text, key: "'\(key)'")
        }

        let dataDir = reader.string(forKey: "dataDir").map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
        var configuration = ServerConfiguration(dataDirectory: dataDir ?? defaultDataDirectory())
        configuration.host = reader.string(forKey: "host", default: configuration.host)
        if let port = reader.string(forKey: "port") {
            guard let value = Int(port), (0...65535).contains(value) else {
                throw ConfigurationError("'port' must be a number from 0 to 65535, not '\(port)'.")
            }
            configuration.port = value
        }
        configuration.publicURL = reader.string(forKey: "publicURL")
        configuration.environmentToken = reader.string(forKey: "accessToken", isSecret: true)
        configuration.sessionIdleTimeout = try seconds("sessions.idleTimeoutSeconds", default: configuration.sessionIdleTimeout)
        configuration.displayWait = try seconds("sessions.displayWaitSeconds", default: configuration.displayWait)
        configuration.finishedSessionRetention = try seconds(
            "sessions.finishedRetentionSeconds", default: configuration.finishedSessionRetention)
        if let enabled = reader.string(forKey: "demo.enabled") {
            configuration.demoEnabled = try ConfigurationValue.flag(enabled, key: "'demo.enabled'")
        }
        configuration.demoQRRefresh = try seconds("demo.qrRefreshSeconds", default: configuration.demoQRRefresh)
        configuration.demoNothingDelay = try seconds("demo.nothingDelaySeconds", default: configuration.demoNothingDelay)
        configuration.logLevel = reader.string(forKey: "log.level", default: configuration.logLevel)
        func integer(_ key: String, default value: Int, minimum: Int) throws -> Int {
            guard let text = reader.string(forKey: ConfigKey(key)) else { return value }
            guard let number = Int(text), number >= minimum else {
                throw ConfigurationError("'\(key)' must be a whole number of at least \(minimum), not '\(text)'.")
            }
            return number
        }
        configuration.maxBodyBytes = try integer("limits.maxBodyBytes", default: configuration.maxBodyBytes, minimum: 1024)
        configuration.maxSessionsPerBridge = try integer(
            "limits.sessionsPerBridge", default: configuration.maxSessionsPerBridge, minimum: 1)
        configuration.maxSessionsTotal = try integer("limits.sessionsTotal", default: configuration.maxSessionsTotal, minimum: 1)
        configuration.maxSessionsPerUser = try integer(
            "limits.sessionsPerUser", default: configuration.maxSessionsPerUser, minimum: 1)
        configuration.eventBufferSize = try integer("events.bufferSize", default: configuration.eventBufferSize, minimum: 16)
        configuration.eventRefresh = try seconds("events.refreshSeconds", default: configuration.eventRefresh)
        if reader.string(forKey: "limits.requestsPerMinute") != nil {
            configuration.requestsPerMinute = try integer("limits.requestsPerMinute", default: 0, minimum: 0)
        }
        if let allow = reader.string(forKey: "allowRemoteAccess") {
            configuration.allowRemoteAccess = try ConfigurationValue.flag(allow, key: "'allowRemoteAccess'")
        }
        configuration.mautrixBridges = try BridgeEntries.parse(
            file?.bridges ?? [], environment: ConfigReader(providers: Array(providers.prefix(2))),
            reservedIDs: configuration.demoEnabled ? DemoEnvironment.bridgeIDs : [])
        if let owner = reader.string(forKey: "owner") {
            guard let parsed = UserID(owner) else {
                throw ConfigurationError("'owner' must be a Matrix user ID such as @alice:example.com, not '\(owner)'.")
            }
            configuration.owner = parsed
        } else if let first = configuration.mautrixBridges.first?.userID {
            configuration.owner = first
        }
        if let homeserver = reader.string(forKey: "matrix.homeserver"), !homeserver.isEmpty {
            guard let location = HomeserverLocation(homeserver) else {
                throw ConfigurationError(
                    "'matrix.homeserver' must be a base URL such as https://matrix.example.com or a server name such as example.com, not '\(homeserver)'.")
            }
            configuration.matrixHomeserver = location
        }
        do {
            configuration.signInAdmission = try SignInAdmission(allow: reader.stringArray(forKey: "users.allow"))
        } catch {
            throw ConfigurationError("'users.allow': \(error)")
        }
        return configuration
    }
}
