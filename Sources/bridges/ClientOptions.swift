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
