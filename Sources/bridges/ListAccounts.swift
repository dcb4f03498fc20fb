import ArgumentParser
import BridgesClient

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
