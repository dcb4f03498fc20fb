import ArgumentParser
import BridgesClient

struct RemoveLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a login and its accounts.")

    @Argument(help: "The bridge's ID.") var bridge: String
    @Argument(help: "The login's ID, as `bridges logins <bridge>` shows it.") var login: String
    @Option(help: "Where to sign out (default: the first the login allows).") var scope: RemoveScope?
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let api = try client.client()
            let found = try await api.bridges.logins.retrieve(login, bridgeID: bridge)
            let chosen: RemoveScope
            if let scope {
                guard found.removeScopes.contains(scope) else {
                    throw CLIFailure(
                        "This login can be removed only with \(found.removeScopes.map(\.rawValue).joined(separator: " or ")).",
                        code: .usage)
                }
                chosen = scope
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

/// Parsed by the argument parser, which lists the values in the help and rejects others as bad usage.
extension RemoveScope: ExpressibleByArgument {}
