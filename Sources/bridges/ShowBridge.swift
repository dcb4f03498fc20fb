import ArgumentParser
import BridgesClient

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
