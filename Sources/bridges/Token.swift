import ArgumentParser
import BridgesCore
import BridgesServer
import BridgesStore
import Foundation

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the server's access tokens (on this machine, beside `bridges serve`).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (it is shown only once).",
            discussion: "The token acts for one user: every call made with it sees and changes only their logins.")

        @Option(help: "A name to recognise the token by.")
        var name = "cli"

        @Option(help: ArgumentHelp("The user the token acts for (default: the owner). Add users with `bridges user add`.", valueName: "@user:server"))
        var user: String?

        @OptionGroup var data: DataOptions

        func run() async throws {
            let local = try await LocalData(data)
            let owner = try user.map(LocalData.userID) ?? local.configuration.owner
            if try await local.store.user(owner) == nil {
                // The owner is always a user; anyone else must be added on purpose, so a typo
                // does not quietly make a new user.
                guard user == nil else {
                    throw ValidationError("There is no user \(owner) on this server; add them first with `bridges user add \(owner)`.")
                }
                _ = try await local.store.addUser(owner, at: Date())
            }
            let (record, secret) = try await local.tokens.create(name: name, for: owner)
            print(secret)
            FileHandle.standardError.write(Data("Created token \(record.id) (\(record.name)) for \(owner).\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (their IDs and users, never their secrets).")

        @Option(help: ArgumentHelp("Only this user's tokens.", valueName: "@user:server"))
        var user: String?

        @OptionGroup var data: DataOptions

        func run() async throws {
            let only = try user.map(LocalData.userID)
            let records = try await LocalData(data).tokens.list().filter { only == nil || $0.userID == only }
            if records.isEmpty {
                print("No tokens.")
                return
            }
            let formatter = ISO8601DateFormatter()
            for record in records {
                print("\(record.id)  \(formatter.string(from: record.createdAt))  \(record.userID)  \(record.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token; it stops working at once.")

        @Argument(help: "The token's ID, as `bridges token list` shows it.")
        var id: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            guard try await LocalData(data).tokens.revoke(id: id) else {
                throw ValidationError("No token with ID '\(id)'.")
            }
            print("Revoked \(id).")
        }
    }
}
