import ArgumentParser
import BridgesClient
import BridgesCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SignInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signin",
        abstract: "Sign in with a Matrix account and keep the token for this server.",
        discussion: """
            Asks for your Matrix user ID (unless --user gives it) and your password, without \
            echoing it; the server checks them with your homeserver and keeps neither. The new \
            access token is saved in $XDG_CONFIG_HOME/bridges/credentials.json \
            (~/.config/bridges/ by default, readable by you only), under the server's URL, and the \
            other commands use it for that server when neither --token nor BEEPER_ACCESS_TOKEN is \
            given. A password is never taken from the command line: scripts pass it on standard \
            input with --password-stdin.
            """)

    @OptionGroup var server: ServerOption

    @Option(help: ArgumentHelp("Your Matrix user ID; asked for when not given.", valueName: "@name:server"))
    var user: String?

    @Flag(help: "Read the password from standard input (one line) instead of asking; needs --user.")
    var passwordStdin = false

    @Flag(help: "Sign in with the access token of a Matrix session you already have, read from standard input.")
    var matrixTokenStdin = false

    @Option(help: ArgumentHelp("A name for the new token, as `bridges token list` shows it.", valueName: "name"))
    var tokenName: String?

    func validate() throws {
        if passwordStdin && matrixTokenStdin {
            throw ValidationError("--password-stdin and --matrix-token-stdin cannot be used together.")
        }
        if let user, UserID(user) == nil {
            throw ValidationError("'\(user)' is not a Matrix user ID; write it whole, like @alice:example.com.")
        }
        if passwordStdin && user == nil {
            throw ValidationError("--password-stdin needs --user: standard input holds the password.")
        }
    }

    func run() async throws {
        try await runClient {
            let base = server.resolved()
            let anonymous: BridgesClient
            do {
                // Not retried: a password is sent once, and a person is waiting for the answer.
                anonymous = try BridgesClient.withoutAccessToken(baseURL: base, maxRetries: 0)
            } catch {
                throw CLIFailure(String(describing: error), code: .usage)
            }
            let name = tokenName ?? "bridges CLI on \(ProcessInfo.processInfo.hostName)"
            let response: SignInResponse
            if matrixTokenStdin {
                let token = try Self.secret("Matrix access token", fromStandardInput: true)
                response = try await Self.signingIn(base) { try await anonymous.signIn(matrixAccessToken: token, tokenName: name) }
            } else {
                let userID = try user ?? Self.askUserID()
                let password = try Self.secret("Password for \(userID)", fromStandardInput: passwordStdin)
                response = try await Self.signingIn(base) {
                    try await anonymous.signIn(userID: userID, password: password, tokenName: name)
                }
            }

            let stored = StoredCredentials()
            let previous = try? stored.entry(for: base)
            do {
                try stored.save(
                    .init(accessToken: response.accessToken, tokenID: response.tokenID, userID: response.userID), for: base)
            } catch {
                throw CLIFailure("Signed in as \(response.userID), but the token could not be saved: \(String(describing: error))")
            }
            // The token this one replaces would otherwise stay valid with nobody holding it.
            if let previous, previous.accessToken != response.accessToken,
                let old = try? BridgesClient(accessToken: previous.accessToken, baseURL: base, maxRetries: 0)
            {
                try? await old.signOut()
            }
            Terminal.line(
                "\(Terminal.green("✔")) Signed in to \(base) as \(Terminal.bold(response.userID)) (token \(response.tokenID)).")
            Terminal.line("The token is saved in \(stored.file.path).")
        }
    }

    private static func askUserID() throws -> String {
        while true {
            guard let text = Terminal.readLine(prompt: "Matrix user ID (like @alice:example.com): ", promptToStandardError: true)
            else { throw CLIFailure("No Matrix user ID given.", code: .usage) }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if UserID(trimmed) != nil { return trimmed }
            Terminal.error(Terminal.yellow("That is not a Matrix user ID; write it whole, like @alice:example.com."))
        }
    }

    /// Read without echo on a terminal; from a pipe, one line with no prompt when asked to.
    private static func secret(_ label: String, fromStandardInput: Bool) throws -> String {
        let quiet = fromStandardInput && isatty(STDIN_FILENO) != 1
        let value =
            quiet
            ? Swift.readLine(strippingNewline: true)
            : Terminal.readLine(prompt: "\(label): ", hidden: true, promptToStandardError: true)
        guard let value, !value.isEmpty else {
            throw CLIFailure("No \(label.lowercased()) given.", code: .usage)
        }
        return value
    }

    /// Refusals of a sign-in are the sign-in's failure (exit 1) with the server's reason, not a
    /// refused token (exit 4).
    private static func signingIn(
        _ base: String, _ body: () async throws -> SignInResponse
    ) async throws -> SignInResponse {
        do {
            return try await body()
        } catch BridgesClientError.api(let status) where status.kind == .notFound {
            throw CLIFailure("\(base) does not offer signing in with a Matrix account (\(status.message)).")
        } catch BridgesClientError.api(let status) where status.status < 500 {
            throw CLIFailure("Sign-in refused: \(status.message)")
        }
    }
}
