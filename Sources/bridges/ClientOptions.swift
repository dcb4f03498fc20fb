import ArgumentParser
import BridgesClient
import BridgesServer
import Foundation

/// Which server the client commands talk to.
struct ServerOption: ParsableArguments {
    @Option(
        name: [.customLong("base-url"), .customLong("server")],
        help: ArgumentHelp("The server (default: BEEPER_BASE_URL, then http://localhost:23373).", valueName: "url"))
    var baseURL: String?

    /// --base-url, then BEEPER_BASE_URL, then the default.
    func resolved(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        baseURL ?? environment["BEEPER_BASE_URL"] ?? BridgesClient.defaultBaseURL
    }
}

/// How the client commands find their server and token. The one place that says which token
/// wins: --token, then BEEPER_ACCESS_TOKEN, then what `bridges signin` stored for the server,
/// then the access-token file of a local `bridges serve`.
struct ClientOptions: ParsableArguments {
    @OptionGroup var server: ServerOption

    @Option(
        help: ArgumentHelp(
            "The access token (default: BEEPER_ACCESS_TOKEN, then the token `bridges signin` stored for the server, then the local server's <data-dir>/access-token).",
            valueName: "token"))
    var token: String?

    /// Where the token in use came from.
    enum TokenSource {
        case option
        case environment
        case signIn(StoredCredentials.Entry, file: URL)
        case localServer(file: URL)
    }

    /// The token for the server, and where it came from; `nil` when there is none anywhere.
    func credentials() throws -> (token: String, source: TokenSource)? {
        let environment = ProcessInfo.processInfo.environment
        if let token { return (token, .option) }
        if let token = environment["BEEPER_ACCESS_TOKEN"], !token.isEmpty { return (token, .environment) }
        let stored = StoredCredentials(environment: environment)
        do {
            if let entry = try stored.entry(for: server.resolved(environment)) {
                return (entry.accessToken, .signIn(entry, file: stored.file))
            }
        } catch {
            throw CLIFailure(String(describing: error))
        }
        let file = Self.localTokenFile(environment)
        if let token = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines),
            !token.isEmpty
        {
            return (token, .localServer(file: file))
        }
        return nil
    }

    func client() throws -> BridgesClient {
        guard let (token, _) = try credentials() else {
            throw CLIFailure(
                "No access token for \(server.resolved()). Run `bridges signin`, pass --token, set BEEPER_ACCESS_TOKEN, or run `bridges serve` on this machine first.",
                code: .authentication)
        }
        do {
            return try BridgesClient(accessToken: token, baseURL: server.resolved())
        } catch {
            throw CLIFailure(error.description, code: .usage)
        }
    }

    /// The token a local `bridges serve` wrote on its first start.
    private static func localTokenFile(_ environment: [String: String]) -> URL {
        let directory = environment["BRIDGES_DATA_DIR"].map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultDataDirectory()
        return directory.appendingPathComponent("access-token")
    }
}
