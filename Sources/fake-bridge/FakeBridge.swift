import ArgumentParser
import Foundation
import Logging
import MautrixFake

/// A stand-in for a mautrix bridgev2 bridge, to try Bridges' mautrix connector (and to test it)
/// without a real bridge.
@main
struct FakeBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-bridge",
        abstract: "Serve a fake mautrix bridgev2 provisioning API on loopback, modelled on beeper/dummybridge.",
        discussion: """
            Prints its base URL on the first line of standard output, then reads commands from \
            standard input, one per line: `scan [USER]` (the QR code is scanned), `refresh [USER]` \
            (a new QR code), both for every user's login processes unless a user is named, and \
            `state <loginID> <STATE_EVENT> [USER_ACTION]` (a login's bridge state, for --user-id). \
            Flows: password (a username containing 2fa asks for the code 123456; the password \
            incorrectpassword fails), cookies, localstorage, displayandwait, qr. Each permitted \
            user has logins and login processes of their own; anyone else gets 403 M_FORBIDDEN.
            """)

    @Option(help: "The protocol generation to speak: old (mautrix-go v0.26-v0.28.0) or new (v0.28.1+).")
    var generation = "new"

    @Option(help: "The provisioning shared secret clients must send.")
    var secret = "fake-provisioning-secret-0123456789"

    @Option(help: "The bridge's default Matrix user, always allowed to log in; its server is the bridge's.")
    var userID = "@alice:example.test"

    @Option(help: ArgumentHelp("Also let this Matrix user log in (repeatable).", valueName: "@user:server"))
    var allowUser: [String] = []

    func validate() throws {
        guard ["old", "new"].contains(generation) else { throw ValidationError("--generation is old or new.") }
    }

    func run() async throws {
        // Standard output carries the URL; logs go elsewhere.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let fake = FakeProvisioningServer(
            generation: generation == "old" ? .old : .new, secret: secret, userID: userID,
            permittedUsers: Set([userID] + allowUser))
        let url = try await fake.start()
        FileHandle.standardOutput.write(Data("\(url)\n".utf8))
        // readLine blocks, so it gets a thread of its own rather than one of the pool's.
        let lines = AsyncStream<String> { continuation in
            Thread.detachNewThread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
        }
        for await line in lines {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "scan" where words.count <= 2: fake.scanQR(for: words.dropFirst().first)
            case "refresh" where words.count <= 2: fake.refreshQR(for: words.dropFirst().first)
            case "state" where words.count >= 3:
                fake.setState(loginID: words[1], stateEvent: words[2], userAction: words.count > 3 ? words[3] : nil)
            default:
                FileHandle.standardError.write(Data("fake-bridge: unknown command '\(line)'\n".utf8))
            }
        }
        // Standard input closed: keep serving until stopped.
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
