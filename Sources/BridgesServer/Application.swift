import BridgesAPI
import BridgesCore
import BridgesDemo
import BridgesMautrix
import BridgesStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAPIHummingbird
import ServiceLifecycle
import Synchronization

public typealias BridgesApplication = Application<RouterResponder<BasicRequestContext>>

/// What a running server is made of; tests build it with their own store and connectors.
public struct ServerComponents: Sendable {
    public var store: any Store
    /// Connectors besides the demo networks (real bridges).
    public var connectors: [any BridgeConnector]

    public init(store: any Store, connectors: [any BridgeConnector] = []) {
        self.store = store
        self.connectors = connectors
    }
}

/// Opens the data directory (created `0700`) and its SQLite database.
public func openDataDirectory(_ directory: URL) throws -> SQLiteStore {
    try FileManager.default.createDirectory(
        at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
    return try SQLiteStore(path: directory.appendingPathComponent("bridges.sqlite").path)
}

/// Builds the server: the API, auth, error mapping, the demo's pages and the session sweeper.
/// `onRunning` is called with the port actually bound (useful with port 0).
public func buildApplication(
    configuration: ServerConfiguration, components: ServerComponents, logger: Logger,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> BridgesApplication {
    let portBox = PortBox(configuration.port)
    var connectors: [any BridgeConnector] = []
    var demo: DemoEnvironment?
    if configuration.demoEnabled {
        let environment = DemoEnvironment(
            options: DemoOptions(
                publicURL: { configuration.baseURL(port: portBox.value) }, qrRefresh: configuration.demoQRRefresh,
                nothingDelay: configuration.demoNothingDelay),
            store: components.store)
        connectors += environment.connectors()
        demo = environment
    }
    connectors += configuration.mautrixBridges.map { bridge in
        MautrixConnector(configuration: bridge, logger: logger.with(bridge: bridge.id))
    }
    connectors += components.connectors

    let service = BridgesService(
        connectors: connectors, store: components.store,
        policy: SessionPolicy(
            idleTimeout: configuration.sessionIdleTimeout, displayWait: configuration.displayWait,
            finishedRetention: configuration.finishedSessionRetention,
            maxLivePerBridge: configuration.maxSessionsPerBridge, maxLiveTotal: configuration.maxSessionsTotal),
        logger: logger)
    try await service.recoverAfterRestart()

    let spec = try OpenAPIDocument.yaml()
    let router = Router()
    router.add(middleware: VersionHeaderMiddleware())
    router.add(middleware: ErrorMiddleware(routes: RouteTable(spec: spec)))
    router.add(middleware: AuthMiddleware(tokens: AccessTokens(store: components.store, environmentToken: configuration.environmentToken)))
    if configuration.effectiveRequestsPerMinute > 0 {
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(requestsPerMinute: configuration.effectiveRequestsPerMinute)))
    }
    router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))

    let handler = APIHandler(
        service: service, info: { ServerInfo.make(configuration: configuration, port: portBox.value) },
        spec: spec)
    try handler.registerHandlers(on: router, middlewares: [EmptyBodyMiddleware()])
    if let demo {
        DemoRoutes(environment: demo, bridgeIDs: connectors.map(\.bridgeID)).register(on: router)
    }

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Bridges"),
        services: [MaintenanceService(service: service)],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            portBox.value = port
            await onRunning(port)
        },
        logger: logger)
}

/// Runs the session sweeper alongside the server, until shutdown.
struct MaintenanceService: Service {
    let service: BridgesService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await service.runMaintenance()
        }
        await service.shutdown()
    }
}

/// The port the server actually bound, known only once it runs (tests bind port 0).
final class PortBox: Sendable {
    private let port: Mutex<Int>

    init(_ port: Int) { self.port = Mutex(port) }

    var value: Int {
        get { port.withLock { $0 } }
        set { port.withLock { $0 = newValue } }
    }
}

extension Logger {
    func with(bridge id: String) -> Logger {
        var logger = self
        logger[metadataKey: "bridge"] = "\(id)"
        return logger
    }
}
