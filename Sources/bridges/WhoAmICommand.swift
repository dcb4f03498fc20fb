import ArgumentParser
import BridgesClient
import Foundation

struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show whom the token acts for, on which server, and where the token came from.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    private struct Report: Encodable {
        var server: String
        var userID: String
        var tokenID: String
        var matrixSignIn: Bool?
        var tokenSource: String
    }

    func run() async throws {
        try await runClient {
            let base = client.server.resolved()
            let source = (try client.credentials())?.source
            let me: WhoAmI
            do {
                me = try await client.client().whoAmI()
            } catch BridgesClientError.api(let status) where status.kind == .notFound {
                throw CLIFailure("\(base) does not say whom a token acts for (it has no /_bridges/v1/whoami).", code: .notFound)
            }
            let origin: String =
                switch source {
                case .option: "--token"
                case .environment: "BEEPER_ACCESS_TOKEN"
                case .signIn(_, let file): "bridges signin (\(file.path))"
                case .localServer(let file): "the local server's \(file.path)"
                case nil: "none"
                }
            if output.json {
                try printJSON(
                    Report(server: base, userID: me.userID, tokenID: me.tokenID, matrixSignIn: me.matrixSignIn, tokenSource: origin))
                return
            }
            Terminal.line("\(Terminal.bold(me.userID)) on \(base)")
            Terminal.line("token \(me.tokenID), from \(origin)")
        }
    }
}
