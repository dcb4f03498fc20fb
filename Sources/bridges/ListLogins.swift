import ArgumentParser
import BridgesClient

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
