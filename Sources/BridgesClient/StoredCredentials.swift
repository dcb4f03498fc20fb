import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The access tokens `bridges signin` keeps, one per server, in
/// `$XDG_CONFIG_HOME/bridges/credentials.json` (`~/.config/bridges/credentials.json` by default):
/// the file readable by its owner only (0600), its folder too (0700), and every change written
/// to a new file that then replaces the old one, so a reader never sees half of one.
public struct StoredCredentials: Sendable {
    /// What is kept for one server.
    public struct Entry: Codable, Sendable, Hashable {
        public var accessToken: String
        public var tokenID: String
        public var userID: String
        public var savedAt: Date

        public init(accessToken: String, tokenID: String, userID: String, savedAt: Date = Date()) {
            self.accessToken = accessToken
            self.tokenID = tokenID
            self.userID = userID
            self.savedAt = savedAt
        }
    }

    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The file exists but cannot be read.
        case unreadable(path: String, errno: Int32)
        /// The file is not what this tool writes; it is left alone rather than overwritten.
        case malformed(path: String)
        /// The folder or the file cannot be written.
        case unwritable(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .unreadable(let path, let code): "Cannot read \(path): \(String(cString: strerror(code)))."
            case .malformed(let path): "\(path) is not a credentials file this tool wrote; move it away or delete it."
            case .unwritable(let path, let code): "Cannot write \(path): \(String(cString: strerror(code)))."
            }
        }
    }

    private struct Contents: Codable {
        var version = 1
        var servers: [String: Entry] = [:]
    }

    public let file: URL

    public init(file: URL) {
        self.file = file
    }

    /// The file in the user's configuration folder: `$XDG_CONFIG_HOME/bridges/credentials.json`,
    /// or `$HOME/.config/bridges/credentials.json`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let configuration: URL =
            if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
                URL(fileURLWithPath: xdg, isDirectory: true)
            } else if let home = environment["HOME"], !home.isEmpty {
                URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".config", isDirectory: true)
            } else {
                FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config", isDirectory: true)
            }
        self.init(file: configuration.appendingPathComponent("bridges").appendingPathComponent("credentials.json"))
    }

    /// One server's entry, if there is one.
    public func entry(for server: String) throws(Failure) -> Entry? {
        try load().servers[Self.key(for: server)]
    }

    /// Every server with an entry, by its key.
    public func servers() throws(Failure) -> [String: Entry] {
        try load().servers
    }

    /// Keeps `entry` for `server`, replacing what was kept for it.
    public func save(_ entry: Entry, for server: String) throws(Failure) {
        var contents = try load()
        contents.servers[Self.key(for: server)] = entry
        try replaceFile(with: contents)
    }

    /// Forgets `server`'s entry and answers it; the file goes when no server is left in it.
    @discardableResult
    public func remove(for server: String) throws(Failure) -> Entry? {
        var contents = try load()
        guard let removed = contents.servers.removeValue(forKey: Self.key(for: server)) else { return nil }
        if contents.servers.isEmpty {
            if unlink(file.path) != 0, errno != ENOENT { throw .unwritable(path: file.path, errno: errno) }
        } else {
            try replaceFile(with: contents)
        }
        return removed
    }

    /// The same server however its URL is written: scheme and host in lower case, no default
    /// port, no trailing slash.
    public static func key(for server: String) -> String {
        guard var components = URLComponents(string: server.trimmingCharacters(in: .whitespaces)),
            let scheme = components.scheme?.lowercased(), components.host != nil
        else { return server }
        components.scheme = scheme
        components.host = components.host?.lowercased()
        if (scheme == "http" && components.port == 80) || (scheme == "https" && components.port == 443) {
            components.port = nil
        }
        while components.path.hasSuffix("/") { components.path.removeLast() }
        components.query = nil
        components.fragment = nil
        return components.string ?? server
    }

    // MARK: - The file

    private func load() throws(Failure) -> Contents {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return Contents() }
            throw .unreadable(path: file.path, errno: errno)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw .unreadable(path: file.path, errno: EIO)
        }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let contents = try decoder.decode(Contents.self, from: data)
            guard contents.version == 1 else { throw Failure.malformed(path: file.path) }
            return contents
        } catch {
            throw .malformed(path: file.path)
        }
    }

    /// A new file beside the old one, written, synced and renamed over it: readers see the old
    /// contents or the new, never a mix, and a crash leaves one of the two.
    private func replaceFile(with contents: Contents) throws(Failure) {
        let directory = file.deletingLastPathComponent()
        try makePrivateDirectory(directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(contents) else { throw .unwritable(path: file.path, errno: EINVAL) }

        let temporary = directory.appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unwritable(path: temporary, errno: errno) }
        var failure: Int32?
        // The umask can only take bits away; this makes sure none were added either.
        if fchmod(descriptor, 0o600) != 0 { failure = errno }
        if failure == nil {
            let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written != data.count { failure = written < 0 ? errno : EIO }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == nil, rename(temporary, file.path) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw .unwritable(path: file.path, errno: failure)
        }
    }

    private func makePrivateDirectory(_ directory: URL) throws(Failure) {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .unwritable(path: directory.path, errno: EACCES)
        }
        // It may have existed with wider permissions.
        if chmod(directory.path, 0o700) != 0 { throw .unwritable(path: directory.path, errno: errno) }
    }
}
