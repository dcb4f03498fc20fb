import Foundation
import Synchronization

/// The tokens' hashes and grants in memory, so checking a request's token reads no database. Another process
/// (`bridges token create|revoke`) may change the table, so the set is read again whenever the
/// database files change on disk: a revoked token fails on the very next request.
final class TokenCache: Sendable {
    private struct Snapshot {
        var stamp: [Int]
        var grants: [String: TokenGrant]
    }

    private let files: [String]
    private let snapshot = Mutex<Snapshot?>(nil)

    /// `files`: the database and its write-ahead log.
    init(files: [String]) {
        self.files = files
    }

    /// What the stored token with this hash grants; `load` reads every token when the files changed.
    func grant(for hash: String, load: () async throws -> [String: TokenGrant]) async throws -> TokenGrant? {
        let stamp = Self.stamp(files)
        if let grants = snapshot.withLock({ $0?.stamp == stamp ? $0?.grants : nil }) {
            return grants[hash]
        }
        let grants = try await load()
        snapshot.withLock { $0 = Snapshot(stamp: stamp, grants: grants) }
        return grants[hash]
    }

    /// Forgets the set, after a change made through this process.
    func invalidate() {
        snapshot.withLock { $0 = nil }
    }

    /// Size and modification time of each file, to the nanosecond: any commit changes one.
    private static func stamp(_ files: [String]) -> [Int] {
        files.flatMap { path -> [Int] in
            var info = stat()
            guard stat(path, &info) == 0 else { return [-1] }
            return [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino)]
        }
    }
}
