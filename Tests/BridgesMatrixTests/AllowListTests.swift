import BridgesCore
import Testing

@testable import BridgesMatrix

@Suite(.timeLimit(.minutes(2))) struct AllowListTests {
    @Test(arguments: [
        ("@alice:example.com", "@alice:example.com", true),
        ("@alice:example.com", "@alice:example.org", false),
        ("@*:example.com", "@alice:example.com", true),
        ("@*:example.com", "@alice:example.com.evil.org", false),
        ("@*:example.com", "@alice:sub.example.com", false),
        ("@*:*example.com", "@alice:sub.example.com", true),
        ("@a?ice:example.com", "@alice:example.com", true),
        ("@a?ice:example.com", "@aice:example.com", false),
        ("@a?ice:example.com", "@allice:example.com", false),
        ("@alice*", "@alice:example.com", true),
        ("@alice*", "@alicia:example.com", false),
        ("*", "@anyone:anywhere", true),
        ("@*-bot:*", "@news-bot:example.com", true),
        ("@*-bot:*", "@news-bot-not:example.com", false),
        ("@*-bot:example.com", "@news-bot-not:example.com", false),
        ("@Alice:example.com", "@alice:example.com", false),
        ("@*a*b*c*:x", "@aXbXc:x", true),
        ("@*a*b*c*:x", "@aXcXb:x", false),
    ])
    func globs(pattern: String, user: String, allowed: Bool) throws {
        let list = try UserAllowList([pattern])
        #expect(list.allows(try #require(UserID(user))) == allowed)
    }

    @Test func manyStarsDoNotBacktrackWithoutEnd() throws {
        // Naive recursive backtracking would not finish this within the suite's time limit.
        let pattern = "@" + String(repeating: "*a", count: 30) + "*b"
        let user = "@" + String(repeating: "a", count: 200) + ":x"
        #expect(!(try UserAllowList([pattern]).allows(try #require(UserID(user)))))
    }

    @Test func anyPatternOfSeveralMayMatch() throws {
        let list = try UserAllowList(["@alice:example.com", "@*:corp.example"])
        #expect(list.allows(try #require(UserID("@bob:corp.example"))))
        #expect(!list.allows(try #require(UserID("@bob:example.com"))))
    }

    @Test(arguments: ["", "alice", "@alice :example.com", "example.com"])
    func patternsThatCannotBeUserIDsAreRefused(pattern: String) {
        #expect(throws: UserAllowList.InvalidPattern(pattern: pattern)) { try UserAllowList([pattern]) }
    }

    @Test func admissionFollowsTheSetting() throws {
        let alice = try #require(UserID("@alice:example.com"))
        #expect(try SignInAdmission(allow: nil) == .homeserverUsers)
        #expect(try SignInAdmission(allow: nil).admits(alice))
        #expect(!(try SignInAdmission(allow: []).admits(alice)))
        #expect(try SignInAdmission(allow: ["@*:example.com"]).admits(alice))
        #expect(!(try SignInAdmission(allow: ["@bob:example.com"]).admits(alice)))
    }
}

@Suite(.timeLimit(.minutes(2))) struct HomeserverLocationTests {
    @Test(arguments: [
        ("http://127.0.0.1:8008", HomeserverLocation.baseURL("http://127.0.0.1:8008")),
        ("https://matrix.example.com/", .baseURL("https://matrix.example.com")),
        ("https://example.com/matrix/", .baseURL("https://example.com/matrix")),
        (" example.com ", .serverName("example.com")),
        ("example.com:8448", .serverName("example.com:8448")),
        ("127.0.0.1:8008", .serverName("127.0.0.1:8008")),
        ("[::1]:8448", .serverName("[::1]:8448")),
        ("localhost", .serverName("localhost")),
    ])
    func settingsAreRead(text: String, expected: HomeserverLocation) {
        #expect(HomeserverLocation(text) == expected)
    }

    @Test(arguments: ["", "ftp://example.com", "http://", "example.com/path", "exa mple.com", "example.com:", "example.com:123456",
        "https://example.com/?x=1", "[::1"])
    func otherTextIsRefused(text: String) {
        #expect(HomeserverLocation(text) == nil)
    }

    @Test func onlyAServerNameSaysTheUsersServer() {
        #expect(HomeserverLocation.serverName("example.com").serverName == "example.com")
        #expect(HomeserverLocation.baseURL("https://matrix.example.com").serverName == nil)
    }
}
