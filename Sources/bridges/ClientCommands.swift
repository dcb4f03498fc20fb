import ArgumentParser
import BridgesClient
import BridgesServer
import Foundation

/// How the client commands find their server and token.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server (default: BEEPER_BASE_URL, then http://localhost:23373).", valueName: "url"))
    var baseURL: String?

    @Option(
        help: ArgumentHelp(
            "The access token (default: BEEPER_ACCESS_TOKEN, then the local server's <data-dir>/access-token).",
            valueName: "token"))
    var token: String?

    func client() throws -> BridgesClient {
        let environment = ProcessInfo.processInfo.environment
        let token = token ?? environment["BEEPER_ACCESS_TOKEN"] ?? Self.localToken(environment)
        do {
            return try BridgesClient(accessToken: token, baseURL: baseURL)
        } catch .missingAccessToken {
            throw CLIFailure(
                "No access token. Pass --token, set BEEPER_ACCESS_TOKEN, or run `bridges serve` on this machine first.",
                code: .authentication)
        } catch {
            throw CLIFailure(error.description, code: .usage)
        }
    }

    /// The token a local `bridges serve` wrote on its first start.
    private static func localToken(_ environment: [String: String]) -> String? {
        let directory = environment["BRIDGES_DATA_DIR"].map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultDataDirectory()
        let file = directory.appendingPathComponent("access-token")
        return (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table, for scripts.")
    var json = false
}

/// A failure the tool explains in one sentence and reports with its own exit code.
struct CLIFailure: Error, CustomStringConvertible {
    enum Code: Int32 {
        case failed = 1
        case usage = 2
        case notFound = 3
        case authentication = 4
        case unreachable = 5
        case interrupted = 130
    }

    var description: String
    var code: Code

    init(_ description: String, code: Code = .failed) {
        self.description = description
        self.code = code
    }

    init(_ error: BridgesClientError) {
        switch error {
        case .api(let status):
            switch status.kind {
            case .authentication:
                self.init("The server refused the access token (\(status.message)).", code: .authentication)
            case .notFound:
                self.init(status.message, code: .notFound)
            default:
                self.init(status.message)
            }
        case .connection(let reason):
            let shown = reason.lowercased().contains("refused") ? "connection refused" : reason
            self.init("Cannot reach the server (\(shown)). Is it running? Check --base-url or BEEPER_BASE_URL.", code: .unreachable)
        case .timeout:
            self.init("The server did not answer in time.", code: .unreachable)
        default:
            self.init(error.description)
        }
    }
}

/// Runs a client command body, turning failures into a message on standard error and an exit code.
func runClient(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CLIFailure {
        Terminal.error(Terminal.red("error: ") + failure.description)
        throw ExitCode(failure.code.rawValue)
    } catch let error as BridgesClientError {
        let failure = CLIFailure(error)
        Terminal.error(Terminal.red("error: ") + failure.description)
        throw ExitCode(failure.code.rawValue)
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    Terminal.line(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func colored(status: String) -> String {
    switch status {
    case "available", "connected": Terminal.green(status)
    case "temporarily_unavailable", "reconnect_required", "needs_login", "attention_required", "disconnected":
        Terminal.yellow(status)
    case "disabled", "logged_out", "limit_reached", "connection_required": Terminal.red(status)
    default: status
    }
}

struct ListBridges: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the bridges and their accounts.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let bridges = try await client.client().bridges.list()
            if output.json { return try printJSON(bridges) }
            let rows = bridges.map { bridge in
                [
                    bridge.id, bridge.displayName, bridge.provider.rawValue, colored(status: bridge.status.rawValue),
                    bridge.accounts.isEmpty
                        ? (bridge.supportsMultipleAccounts ? "none (multiple allowed)" : "none (single account)")
                        : bridge.accounts.map(\.accountID).joined(separator: ", "),
                ]
            }
            Terminal.line(Terminal.table(["BRIDGE", "NAME", "PROVIDER", "STATUS", "ACCOUNTS"], rows))
        }
    }
}

struct ShowBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one bridge.")

    @Argument(help: "The bridge's ID, as `bridges list` shows it.") var bridge: String
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let found = try await client.client().bridges.retrieve(bridge)
            if output.json { return try printJSON(found) }
            Terminal.line("\(Terminal.bold(found.displayName)) (\(found.id))")
            Terminal.line("  status:    \(colored(status: found.status.rawValue))\(found.statusText.map { " — \($0)" } ?? "")")
            Terminal.line("  provider:  \(found.provider.rawValue)")
            Terminal.line("  type:      \(found._type)\(found.network.map { ", network \($0)" } ?? "")")
            Terminal.line("  accounts:  \(found.supportsMultipleAccounts ? "multiple allowed" : "single account"), \(found.activeAccountCount) active")
            for account in found.accounts {
                Terminal.line("    \(account.accountID)  \(colored(status: account.status.rawValue))  \(account.user.fullName ?? account.user.username ?? account.user.id)")
            }
        }
    }
}

struct ListFlows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "flows", abstract: "List a bridge's sign-in methods.")

    @Argument(help: "The bridge's ID.") var bridge: String
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let flows = try await client.client().bridges.loginFlows.list(bridgeID: bridge)
            if output.json { return try printJSON(flows) }
            Terminal.line(Terminal.table(["FLOW", "NAME", "DESCRIPTION"], flows.map { [$0.id, $0.name ?? "", $0.description ?? ""] }))
        }
    }
}

struct ListLogins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logins", abstract: "List a bridge's logins.")

    @Argument(help: "The bridge's ID.") var bridge: String
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let logins = try await client.client().bridges.logins.list(bridgeID: bridge)
            if output.json { return try printJSON(logins) }
            if logins.isEmpty { return Terminal.line("No logins on \(bridge).") }
            Terminal.line(
                Terminal.table(
                    ["LOGIN", "STATUS", "USER", "ACCOUNTS"],
                    logins.map { login in
                        [
                            login.loginID, colored(status: login.status.rawValue),
                            login.user.map { $0.fullName ?? $0.username ?? $0.id } ?? "",
                            (login.accountIDs ?? []).joined(separator: ", "),
                        ]
                    }))
        }
    }
}

struct ListAccounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "accounts", abstract: "List every connected account.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let accounts = try await client.client().accounts.list()
            if output.json { return try printJSON(accounts) }
            if accounts.isEmpty { return Terminal.line("No accounts. Connect one with `bridges connect <bridge>`.") }
            Terminal.line(
                Terminal.table(
                    ["ACCOUNT", "BRIDGE", "STATUS", "USER"],
                    accounts.map { account in
                        [
                            account.accountID, account.bridge.id, colored(status: account.status.rawValue),
                            account.user.fullName ?? account.user.username ?? account.user.id,
                        ]
                    }))
        }
    }
}

struct ShowCapabilities: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capabilities", abstract: "Show a bridge's network capabilities (always JSON).")

    @Argument(help: "The bridge's ID.") var bridge: String
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            try printJSON(try await client.client().bridges.capabilities(bridge))
        }
    }
}

struct RemoveLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a login and its accounts.")

    @Argument(help: "The bridge's ID.") var bridge: String
    @Argument(help: "The login's ID, as `bridges logins <bridge>` shows it.") var login: String
    @Option(help: "current-device or all-devices (default: the first the login allows).") var scope: String?
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let api = try client.client()
            let found = try await api.bridges.logins.retrieve(login, bridgeID: bridge)
            let chosen: RemoveScope
            if let scope {
                guard let parsed = RemoveScope(rawValue: scope) else {
                    throw CLIFailure("--scope is current-device or all-devices, not '\(scope)'.", code: .usage)
                }
                guard found.removeScopes.contains(parsed) else {
                    throw CLIFailure(
                        "This login can be removed only with \(found.removeScopes.map(\.rawValue).joined(separator: " or ")).",
                        code: .usage)
                }
                chosen = parsed
            } else {
                guard let first = found.removeScopes.first else { throw CLIFailure("This login cannot be removed.") }
                chosen = first
            }
            if !yes {
                let accounts = (found.accountIDs ?? []).joined(separator: ", ")
                let answer = Terminal.readLine(
                    prompt: "Remove login \(login) from \(bridge) (\(chosen.rawValue))\(accounts.isEmpty ? "" : ", with \(accounts)")? [y/N] ")
                guard let answer, ["y", "yes"].contains(answer.lowercased()) else {
                    throw CLIFailure("Not removed.", code: .failed)
                }
            }
            let removed = try await api.bridges.logins.remove(login, bridgeID: bridge, scope: chosen)
            if output.json { return try printJSON(removed) }
            Terminal.line("Removed \(removed.loginID) from \(removed.bridgeID).")
        }
    }
}
