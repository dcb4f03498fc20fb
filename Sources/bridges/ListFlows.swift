import ArgumentParser
import BridgesClient

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
