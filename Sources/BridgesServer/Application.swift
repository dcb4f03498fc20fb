import BridgesAPI
import BridgesCore
import BridgesDemo
import BridgesMautrix
import BridgesStore
import BridgesWeb
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle
import Synchronization

public typealias BridgesApplication = Application<RouterResponder<BasicRequestContext>>

/// What a running server is made of; tests build it with their own stores, connectors and clock.
public struct ServerComponents: Sendable {
    public var store: any Store
    public var tokens: any TokenStore
    /// Connectors besides the demo networks (real bridges).
    public var connectors: [any BridgeConnector]
    /// What session expiry, display waits, rate limits and the demo's timers measure time with.
    public var clock: AnyClock

    public init(store: any Store, tokens: any TokenStore, connectors: [any BridgeConnector] = [], clock: AnyClock = .continuous) {
        self.store = store
        self.tokens = tokens
        self.connectors = connectors
        self.clock = clock
    }

    /// One SQLite database for everything, as `bridges serve` uses it.
    public init(store: SQLiteStore, connectors: [any BridgeConnector] = [], clock: AnyClock = .continuous) {
        self.init(store: store, tokens: store, connectors: connectors, clock: clock)
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
                nothingDelay: configuration.demoNothingDelay, clock: components.clock),
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
        clock: components.clock, logger: logger)
    try await service.recoverAfterRestart()
    // What in-process bridges show is known before the first request, so the first change
    // announces exactly what changed; bridges behind the network are learned in the background.
    await service.seedEvents(where: { !$0.changesOnItsOwn })

    let spec = try OpenAPIDocument.yaml()
    let routes = try RouteTable(spec: spec)
    let tokens = AccessTokens(store: components.tokens, environmentToken: configuration.environmentToken)
    let router = Router()
    router.add(middleware: VersionHeaderMiddleware())
    router.add(middleware: ErrorMiddleware(routes: routes))
    router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))

    var apiMiddlewares: [any ServerMiddleware] = [
        OperationAuthMiddleware(tokens: tokens, publicOperationIDs: routes.publicOperationIDs)
    ]
    if configuration.effectiveRequestsPerMinute > 0 {
        apiMiddlewares.append(
            RateLimitMiddleware(
                limiter: RateLimiter(requestsPerMinute: configuration.effectiveRequestsPerMinute, clock: components.clock)))
    }
    apiMiddlewares.append(EmptyBodyMiddleware())
    apiMiddlewares.append(ListingCacheMiddleware(service: service))
    let info = InfoCache(configuration: configuration)
    let handler = APIHandler(service: service, info: { info.answer(port: portBox.value) }, spec: spec)
    // Compact JSON: pretty-printing costs time on every answer and helps no client.
    try handler.registerHandlers(
        on: router, configuration: Configuration(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
        middlewares: apiMiddlewares)
    if let demo {
        DemoRoutes(pages: DemoPages(environment: demo), service: service, tokens: tokens).register(on: router)
    }
    let webPage = try await WebPage(
        service: service, signIn: .accessTokens(tokens, store: components.tokens),
        sessions: PageSessions(clock: components.clock), publicURL: { configuration.publicURL }, logger: logger)
    webPage.register(on: router)

    let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
    webSocketRouter.add(middleware: VersionHeaderMiddleware())
    webSocketRouter.add(middleware: ErrorMiddleware(routes: routes))
    EventsSocket(
        service: service, tokens: tokens, bufferSize: configuration.eventBufferSize,
        authenticationWindow: .seconds(10), pageUser: { await webPage.user(for: $0) }
    ).register(on: webSocketRouter)

    return Application(
        router: router,
        // Events can be larger than the library's 16 KiB default frame (a bridge with many accounts).
        server: GuardedUpgradeChannel.builder(
            webSocketRouter: webSocketRouter, configuration: .init(maxFrameSize: 1 << 20)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Bridges"),
        services: [MaintenanceService(service: service, eventRefresh: configuration.eventRefresh)],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            portBox.value = port
            await onRunning(port)
        },
        logger: logger)
}

/// Runs the session sweeper and the refresh of bridges that change on their own alongside the
/// server, until shutdown.
struct MaintenanceService: Service {
    let service: BridgesService
    let eventRefresh: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await service.seedEvents(where: \.changesOnItsOwn)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await service.runMaintenance() }
                group.addTask { await service.runEventRefresh(every: eventRefresh) }
            }
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
