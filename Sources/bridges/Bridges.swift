import ArgumentParser
import BridgesCore
import BridgesServer
import BridgesStore
import Foundation
import Hummingbird
import Logging

@main
struct Bridges: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridges",
        abstract: "Connect chat networks through the Beeper Desktop API's /v1/bridges resource.",
        discussion: """
            `bridges serve` runs the server (http://127.0.0.1:23373 by default) with built-in demo \
            networks; `bridges user` and `bridges token` manage who may use it. The other commands \
            are a client for this server or for Beeper Desktop: they find the server in --base-url \
            (or --server), then BEEPER_BASE_URL, then http://localhost:23373, and the token in \
            --token, then BEEPER_ACCESS_TOKEN, then the token `bridges signin` saved for that \
            server, then the local server's access-token file.
            """,
        subcommands: [
            ListBridges.self, ShowBridge.self, ListFlows.self, Connect.self, ListLogins.self, RemoveLogin.self,
            ShowCapabilities.self, ListAccounts.self, Watch.self, SignInCommand.self, SignOutCommand.self,
            WhoAmICommand.self, Serve.self, User.self, Token.self,
        ])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Bridges server.",
        discussion: """
            On first start it creates an access token for the owner (the `owner` setting), prints \
            it once and writes it to <data-dir>/access-token (mode 0600). Stop it with Ctrl-C or SIGTERM; it finishes \
            requests in flight first.
            """)

    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (default 23373).")
    var port: Int?

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning or error (default info).", valueName: "level"))
    var logLevel: String?

    @Flag(help: "Allow listening on an address other than loopback (see README, Security).")
    var allowRemote = false

    func run() async throws {
        var overrides = data.overrides
        if let host { overrides["host"] = host }
        if let port { overrides["port"] = String(port) }
        if let logLevel { overrides["log.level"] = logLevel }
        if allowRemote { overrides["allowRemoteAccess"] = "true" }
        let configuration = try await loadConfiguration(data.config, overrides)
        guard configuration.isLoopback || configuration.allowRemoteAccess else {
            throw ValidationError(
                "Refusing to listen on \(configuration.host): the API can sign accounts in and out, and is meant for this machine. Pass --allow-remote (or set allowRemoteAccess: true) to accept other machines, behind TLS; see README, Security.")
        }

        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "bridges")

        // The database holds who is signed in where: readable by its owner only.
        umask(0o077)
        let store = try openDataDirectory(configuration.dataDirectory, owner: configuration.owner)
        let tokenFile = configuration.dataDirectory.appendingPathComponent("access-token")
        let tokens = AccessTokens(store: store, environmentToken: configuration.environmentToken, owner: configuration.owner)
        var createdToken: String?
        if try await tokens.list().isEmpty {
            _ = try await store.addUser(configuration.owner, at: Date())
            let (_, secret) = try await tokens.create(name: "default", for: configuration.owner)
            try writeSecretFile(secret + "\n", to: tokenFile)
            createdToken = secret
        }
        let firstToken = createdToken

        let app = try await buildApplication(
            configuration: configuration, components: ServerComponents(store: store), logger: logger
        ) { port in
            var lines = ["Bridges is serving \(configuration.baseURL(port: port))"]
            if let firstToken {
                lines.append("Access token (shown once; also saved to \(tokenFile.path)):")
                lines.append("  \(firstToken)")
            } else if FileManager.default.fileExists(atPath: tokenFile.path) {
                lines.append("Access token: \(tokenFile.path)")
            } else {
                lines.append("Access tokens: `bridges token create` makes a new one.")
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        try await app.runService()
    }
}
