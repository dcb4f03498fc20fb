import ArgumentParser
import BridgesClient
import Foundation

struct SignOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signout",
        abstract: "Revoke the token in use on the server, and forget the one `bridges signin` kept.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await runClient {
            let base = client.server.resolved()
            guard let (token, source) = try client.credentials() else {
                throw CLIFailure("Not signed in to \(base).", code: .authentication)
            }
            if case .localServer(let file) = source {
                throw CLIFailure(
                    "Not signed in to \(base) with `bridges signin`: the token in use is the local server's \(file.path). Revoke server tokens with `bridges token revoke`.")
            }
            var stillValid = true
            do {
                try await BridgesClient(accessToken: token, baseURL: base, maxRetries: 0).signOut()
            } catch BridgesClientError.api(let status) where status.kind == .authentication {
                stillValid = false
            }
            let stored = StoredCredentials()
            var forgotten = false
            if (try? stored.entry(for: base))?.accessToken == token {
                do {
                    try stored.remove(for: base)
                    forgotten = true
                } catch {
                    throw CLIFailure("Signed out, but \(String(describing: error))")
                }
            }
            var message = stillValid ? "Signed out of \(base); the token is revoked." : "The token was no longer valid on \(base)."
            if forgotten { message += " Removed it from \(stored.file.path)." }
            Terminal.line(message)
        }
    }
}
