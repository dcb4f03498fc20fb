import ArgumentParser
import BridgesClient

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
