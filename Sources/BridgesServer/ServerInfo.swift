import BridgesAPI
import Foundation

enum ServerInfo {
    static func make(configuration: ServerConfiguration, port: Int) -> Components.Schemas.Info {
        let base = configuration.baseURL(port: port)
        let websocketBase = base.replacingOccurrences(of: "http", with: "ws", options: .anchored)
        let host = configuration.host
        let isLoopback = host == "127.0.0.1" || host == "::1" || host == "localhost"
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
            platform: .init(arch: arch, os: os, release: ProcessInfo.processInfo.operatingSystemVersionString),
            server: .init(
                baseUrl: base, hostname: ProcessInfo.processInfo.hostName, mcpEnabled: false, port: port,
                remoteAccess: !isLoopback, status: "running"))
    }
}
