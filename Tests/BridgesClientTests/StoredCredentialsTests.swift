import BridgesClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh folder per test, removed afterwards.
private func withFolder(_ body: (URL) throws -> Void) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try body(folder)
}

private func mode(_ url: URL) throws -> Int {
    try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
}

private func inode(_ url: URL) throws -> Int {
    try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int)
}

private let alice = StoredCredentials.Entry(
    accessToken: "token-alice", tokenID: "tok_a", userID: "@alice:example.com", savedAt: Date(timeIntervalSince1970: 1_800_000_000))
private let bob = StoredCredentials.Entry(
    accessToken: "token-bob", tokenID: "tok_b", userID: "@bob:example.com", savedAt: Date(timeIntervalSince1970: 1_800_000_000))

@Suite(.timeLimit(.minutes(2))) struct StoredCredentialsTests {
    @Test func theFileIsTheUsersConfigurationFolders() {
        #expect(
            StoredCredentials(environment: ["XDG_CONFIG_HOME": "/x/config", "HOME": "/home/a"]).file.path
                == "/x/config/bridges/credentials.json")
        #expect(StoredCredentials(environment: ["HOME": "/home/a"]).file.path == "/home/a/.config/bridges/credentials.json")
        // The XDG specification ignores a relative path.
        #expect(
            StoredCredentials(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/home/a"]).file.path
                == "/home/a/.config/bridges/credentials.json")
    }

    @Test func theFileAndItsFolderAreTheOwnersOnly() throws {
        try withFolder { folder in
            let stored = StoredCredentials(file: folder.appendingPathComponent("bridges/credentials.json"))
            try stored.save(alice, for: "http://127.0.0.1:23373")
            #expect(try mode(stored.file) == 0o600)
            #expect(try mode(stored.file.deletingLastPathComponent()) == 0o700)
        }
    }

    @Test func widerPermissionsAreNarrowed() throws {
        try withFolder { folder in
            let directory = folder.appendingPathComponent("bridges")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            chmod(directory.path, 0o755)
            let file = directory.appendingPathComponent("credentials.json")
            try Data(#"{"version":1,"servers":{}}"#.utf8).write(to: file)
            chmod(file.path, 0o644)
            try StoredCredentials(file: file).save(alice, for: "http://127.0.0.1:23373")
            #expect(try mode(file) == 0o600)
            #expect(try mode(directory) == 0o700)
        }
    }

    @Test func eachServerHasItsOwnEntry() throws {
        try withFolder { folder in
            let stored = StoredCredentials(file: folder.appendingPathComponent("credentials.json"))
            try stored.save(alice, for: "http://127.0.0.1:23373")
            try stored.save(bob, for: "https://bridges.example.com")
            #expect(try stored.entry(for: "http://127.0.0.1:23373") == alice)
            #expect(try stored.entry(for: "https://bridges.example.com") == bob)
            #expect(try stored.entry(for: "http://127.0.0.1:23374") == nil)

            #expect(try stored.remove(for: "http://127.0.0.1:23373") == alice)
            #expect(try stored.entry(for: "http://127.0.0.1:23373") == nil)
            #expect(try stored.entry(for: "https://bridges.example.com") == bob)
            #expect(try stored.remove(for: "http://127.0.0.1:23373") == nil)

            // The last entry takes the file with it.
            try stored.remove(for: "https://bridges.example.com")
            #expect(!FileManager.default.fileExists(atPath: stored.file.path))
        }
    }

    @Test func aServerIsTheSameHoweverItsURLIsWritten() throws {
        #expect(StoredCredentials.key(for: "HTTP://Bridges.Example.com:443/") == "http://bridges.example.com:443")
        #expect(StoredCredentials.key(for: "https://Bridges.Example.com:443/") == "https://bridges.example.com")
        #expect(StoredCredentials.key(for: "http://localhost:80") == "http://localhost")
        #expect(StoredCredentials.key(for: "http://127.0.0.1:23373/") == "http://127.0.0.1:23373")
        #expect(StoredCredentials.key(for: "http://localhost:23373") != StoredCredentials.key(for: "http://127.0.0.1:23373"))
        try withFolder { folder in
            let stored = StoredCredentials(file: folder.appendingPathComponent("credentials.json"))
            try stored.save(alice, for: "http://LOCALHOST:23373/")
            #expect(try stored.entry(for: "http://localhost:23373") == alice)
        }
    }

    @Test func aSaveReplacesTheFileWhole() throws {
        try withFolder { folder in
            let stored = StoredCredentials(file: folder.appendingPathComponent("credentials.json"))
            try stored.save(alice, for: "http://a.test")
            let before = try Data(contentsOf: stored.file)
            let oldInode = try inode(stored.file)
            // A reader that opened the old file keeps reading all of it, not a mix with the new.
            let reader = try FileHandle(forReadingFrom: stored.file)
            defer { try? reader.close() }

            try stored.save(bob, for: "http://b.test")
            #expect(try inode(stored.file) != oldInode)
            #expect(try reader.readToEnd() == before)
            #expect(try stored.entry(for: "http://a.test") == alice)
            #expect(try stored.entry(for: "http://b.test") == bob)
            // No temporary file is left beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["credentials.json"])
        }
    }

    @Test func aFileItDidNotWriteIsLeftAlone() throws {
        try withFolder { folder in
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent("credentials.json")
            try Data("not json".utf8).write(to: file)
            let stored = StoredCredentials(file: file)
            #expect(throws: StoredCredentials.Failure.malformed(path: file.path)) { try stored.entry(for: "http://a.test") }
            #expect(throws: StoredCredentials.Failure.malformed(path: file.path)) { try stored.save(alice, for: "http://a.test") }
            #expect(try Data(contentsOf: file) == Data("not json".utf8))
        }
    }

    @Test func noFileMeansNoEntries() throws {
        try withFolder { folder in
            let stored = StoredCredentials(file: folder.appendingPathComponent("missing/credentials.json"))
            try #require(!FileManager.default.fileExists(atPath: stored.file.path))
            #expect(try stored.entry(for: "http://a.test") == nil)
            #expect(try stored.servers().isEmpty)
        }
    }
}
