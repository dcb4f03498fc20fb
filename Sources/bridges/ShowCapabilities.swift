import ArgumentParser
import BridgesClient

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
