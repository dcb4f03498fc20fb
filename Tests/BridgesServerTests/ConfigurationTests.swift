import BridgesCore
import BridgesMautrix
import BridgesServer
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct ConfigurationTests {
    private func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bridges-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func fileThenEnvironmentThenFlags() async throws {
        let path = try write(
            """
            port: 24000
            host: 127.0.0.2
            sessions:
              idleTimeoutSeconds: 90
            demo:
              qrRefreshSeconds: 5
            """)
        let fromFile = try await ServerConfiguration.load(configFile: path, environment: [:])
        #expect(fromFile.port == 24000)
        #expect(fromFile.host == "127.0.0.2")
        #expect(fromFile.sessionIdleTimeout == .seconds(90))
        #expect(fromFile.demoQRRefresh == .seconds(5))

        let fromEnvironment = try await ServerConfiguration.load(
            configFile: path, environment: ["BRIDGES_PORT": "24001", "BRIDGES_SESSIONS_IDLE_TIMEOUT_SECONDS": "30"])
        #expect(fromEnvironment.port == 24001)
        #expect(fromEnvironment.sessionIdleTimeout == .seconds(30))

        let fromFlags = try await ServerConfiguration.load(
            configFile: path, overrides: ["port": "24002"], environment: ["BRIDGES_PORT": "24001"])
        #expect(fromFlags.port == 24002)
    }

    @Test(arguments: [
        (["BRIDGES_PORT": "seventy"], "'port' must be a number from 0 to 65535, not 'seventy'."),
        (["BRIDGES_SESSIONS_IDLE_TIMEOUT_SECONDS": "-3"], "'sessions.idleTimeoutSeconds' must be a positive number of seconds, not '-3'."),
        (["BRIDGES_DEMO_ENABLED": "maybe"], "'demo.enabled' must be true or false, not 'maybe'."),
        (["BRIDGES_LIMITS_SESSIONS_TOTAL": "0"], "'limits.sessionsTotal' must be a whole number of at least 1, not '0'."),
    ])
    func badValuesAreNamed(environment: [String: String], message: String) async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await ServerConfiguration.load(configFile: nil, environment: environment)
        }
        #expect(error?.description == message)
    }

    @Test func aMissingOrMalformedFileIsNamed() async throws {
        let missing = await #expect(throws: ConfigurationError.self) {
            try await ServerConfiguration.load(configFile: "/nonexistent/bridges.yaml", environment: [:])
        }
        #expect(missing?.description == "The configuration file /nonexistent/bridges.yaml does not exist.")
        let list = try write("- just\n- a list\n")
        let notAMapping = await #expect(throws: ConfigurationError.self) {
            try await ServerConfiguration.load(configFile: list, environment: [:])
        }
        #expect(notAMapping?.description == "The configuration file \(list) must be a YAML mapping.")
        let bridges = try write("bridges: 5\n")
        let notAList = await #expect(throws: ConfigurationError.self) {
            try await ServerConfiguration.load(configFile: bridges, environment: [:])
        }
        #expect(notAList?.description == "'bridges' must be a list of bridge entries.")
    }

    @Test func bridgeEntries() async throws {
        let path = try write(
            """
            bridges:
              - id: sh-whatsapp
                displayName: WhatsApp
                mautrix:
                  url: http://127.0.0.1:29319
                  sharedSecret: from-the-file-0123456789
                  userID: "@alice:example.com"
                  readTimeoutSeconds: 12
            """)
        let configuration = try await ServerConfiguration.load(
            configFile: path, environment: ["BRIDGES_BRIDGE_SH_WHATSAPP_MAUTRIX_SHARED_SECRET": "from-the-environment-0123"])
        let bridge = try #require(configuration.mautrixBridges.first)
        #expect(configuration.mautrixBridges.count == 1)
        #expect(bridge.id == "sh-whatsapp")
        #expect(bridge.displayName == "WhatsApp")
        #expect(bridge.url == "http://127.0.0.1:29319")
        #expect(bridge.sharedSecret == "from-the-environment-0123")
        #expect(bridge.userID == UserID("@alice:example.com"))
        #expect(bridge.provider == .selfHosted)
        #expect(bridge.readTimeout == .seconds(12))
    }

    @Test(arguments: [
        ("- id: x\n    mautrix: {sharedSecret: s, userID: '@a:b'}", "bridges[0] (x): 'mautrix.url' is missing."),
        ("- id: x\n    mautrix: {url: 'ftp://h', sharedSecret: s, userID: '@a:b'}", "bridges[0] (x): 'mautrix.url' must be"),
        ("- id: x\n    mautrix: {url: 'http://h', userID: '@a:b'}", "bridges[0] (x): 'mautrix.sharedSecret' is missing."),
        ("- id: x\n    mautrix: {url: 'http://h', sharedSecret: s, userID: alice}", "bridges[0] (x): 'mautrix.userID' must be"),
        ("- mautrix: {url: 'http://h'}", "bridges[0]: 'id' is missing."),
        ("- id: demo-password\n    mautrix: {url: 'http://h', sharedSecret: s, userID: '@a:b'}", "'id' is already used"),
        ("- id: x\n    provider: moon\n    mautrix: {url: 'http://h', sharedSecret: s, userID: '@a:b'}", "bridges[0] (x): 'provider' must be"),
    ])
    func aBadBridgeEntryNamesTheEntryAndTheKey(entry: String, message: String) async throws {
        let path = try write("bridges:\n  \(entry)\n")
        let error = await #expect(throws: ConfigurationError.self) {
            try await ServerConfiguration.load(configFile: path, environment: [:])
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }
}
