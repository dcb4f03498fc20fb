import ArgumentParser
import BridgesCore
import BridgesServer
import BridgesStore
import Foundation

/// Options every command that opens the server's data shares.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the database and the access-token file live.", valueName: "path"))
    var dataDir: String?

    @Option(help: ArgumentHelp("A YAML configuration file; environment variables override it.", valueName: "file"))
    var config: String?

    var overrides: [String: String] {
        dataDir.map { ["dataDir": $0] } ?? [:]
    }
}

func loadConfiguration(_ file: String?, _ overrides: [String: String]) async throws -> ServerConfiguration {
    do {
        return try await ServerConfiguration.load(configFile: file, overrides: overrides)
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
}

/// The server's own data, opened by the commands that manage it on this machine.
struct LocalData {
    let configuration: ServerConfiguration
    let store: SQLiteStore
    let tokens: AccessTokens

    init(_ options: DataOptions) async throws {
        configuration = try await loadConfiguration(options.config, options.overrides)
        umask(0o077)
        store = try openDataDirectory(configuration.dataDirectory, owner: configuration.owner)
        tokens = AccessTokens(store: store, environmentToken: nil, owner: configuration.owner)
    }

    /// A user ID from the command line, or a usage error that says what one looks like.
    static func userID(_ text: String) throws -> UserID {
        guard let user = UserID(text) else {
            throw ValidationError("'\(text)' is not a Matrix user ID; one looks like @alice:example.com.")
        }
        return user
    }
}

/// Writes a file that only its owner may read, without a moment where others could.
func writeSecretFile(_ contents: String, to url: URL) throws {
    let path = url.path
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
    defer { close(descriptor) }
    fchmod(descriptor, 0o600)
    let bytes = Array(contents.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
}
