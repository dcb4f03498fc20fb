import BridgesAPI
import Foundation
import Synchronization

enum ServerInfo {
    /// Looked up once: both ask the system (the host name can mean a resolver call), and neither
    /// changes while the server runs.
    private static let hostName = ProcessInfo.processInfo.hostName
    private static let osRelease = ProcessInfo.processInfo.operatingSystemVersionString

    static func make(configuration: ServerConfiguration, port: Int) -> Components.Schemas.Info {
        let base = configuration.baseURL(port: port)
        let websocketBase = base.replacingOccurrences(of: "http", with: "ws", options: .anchored)
        #if os(macOS)
        let os = "macos"
        #elseif os(Linux)
        let os = "linux"
        #else
        let os = "unknown"
        #endif
        #if arch(arm64)
        let arch = "arm64"
        #elseif arch(x86_64)
        let arch = "x64"
        #else
        let arch = "unknown"
        #endif
        return Components.Schemas.Info(
            app: .init(bundleId: "dev.bridges.server", name: "Bridges", version: BridgesVersion.current),
            endpoints: .init(
                mcp: base + "/v0/mcp", spec: base + "/v1/spec", wsEvents: websocketBase + "/v1/ws",
                oauth: .init(
                    authorizationEndpoint: base + "/oauth/authorize", introspectionEndpoint: base + "/oauth/introspect",
                    registrationEndpoint: base + "/oauth/register", revocationEndpoint: base + "/oauth/revoke",
                    tokenEndpoint: base + "/oauth/token", userinfoEndpoint: base + "/oauth/userinfo")),
            platform: .init(arch: arch, os: os, release: osRelease),
            server: .init(
                baseUrl: base, hostname: hostName, mcpEnabled: false, port: port,
                remoteAccess: !configuration.isLoopback, status: "running"))
    }
}

/// `/v1/info` never changes while the server runs on one port: it is made once, not per request.
final class InfoCache: Sendable {
    private let configuration: ServerConfiguration
    private let made = Mutex<(port: Int, info: Components.Schemas.Info)?>(nil)

    init(configuration: ServerConfiguration) {
        self.configuration = configuration
    }

    func answer(port: Int) -> Components.Schemas.Info {
        if let made = made.withLock({ $0 }), made.port == port { return made.info }
        let info = ServerInfo.make(configuration: configuration, port: port)
        made.withLock { $0 = (port, info) }
        return info
    }
}
