import ArgumentParser
import BridgesCore
import BridgesServer
import BridgesStore
import Foundation

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage who may use the server (on this machine, beside `bridges serve`).",
        discussion: """
            A user is a Matrix user ID. Each sees, connects and removes only their own logins. \
            People who sign in with their Matrix account (`bridges signin`) are added on their \
            first sign-in; `bridges token create --user` gives an added user a token.
            """,
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user.")

        @Argument(help: ArgumentHelp("The user's Matrix ID.", valueName: "@user:server"))
        var user: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            let id = try LocalData.userID(user)
            if try await LocalData(data).store.addUser(id, at: Date()) {
                print("Added \(id). Give them a token with `bridges token create --user \(id)`.")
            } else {
                print("\(id) is already a user.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users and how many tokens each has.")

        @OptionGroup var data: DataOptions

        func run() async throws {
            let local = try await LocalData(data)
            let tokens = try await local.tokens.list()
            let formatter = ISO8601DateFormatter()
            for user in try await local.store.users() {
                let count = tokens.filter { $0.userID == user.id }.count
                let owner = user.id == local.configuration.owner ? "  (owner)" : ""
                print("\(user.id)  \(formatter.string(from: user.createdAt))  \(count) token\(count == 1 ? "" : "s")\(owner)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user: revoke their tokens and end their login sessions.",
            discussion: """
                Their logins stay on the bridges (Bridges cannot sign a chat account out for \
                someone who is not asking); adding the user again shows them again. A running \
                server ends the user's sessions in progress within a few seconds.
                """)

        @Argument(help: ArgumentHelp("The user's Matrix ID.", valueName: "@user:server"))
        var user: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            let id = try LocalData.userID(user)
            let local = try await LocalData(data)
            guard try await local.store.removeUser(id) else { throw ValidationError("There is no user \(id).") }
            let ended = try await local.store.failUnfinishedSessions(of: id, with: .userRemoved(), at: Date())
            print("Removed \(id); revoked their tokens\(ended > 0 ? " and ended \(ended) login session\(ended == 1 ? "" : "s")" : "").")
        }
    }
}
