import BridgesAPI
import BridgesCore
import BridgesDemo
import BridgesMatrix
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

public typealias BridgesApplication = Application<RouterResponder<BridgesRequestContext>>

/// What a running server is made of; tests build it with their own stores, connectors and clock.
public struct ServerComponents: Sendable {
    public var store: any Store
    public var users: any UserStore
    /// Connectors besides the demo networks (real bridges).
    public var connectors: [any BridgeConnector]
    /// What session expiry, display waits, rate limits and the demo's timers measure time with.
    public var clock: AnyClock

    public init(store: any Store, users: any UserStore, connectors: [any BridgeConnector] = [], clock: AnyClock = .continuous) {
        self.store = store
        self.users = users
        self.connectors = connectors
        self.clock = clock
    }

    /// One SQLite database for everything, as `bridges serve` uses it.
    public init(store: SQLiteStore, connectors: [any BridgeConnector] = [], clock: AnyClock = .continuous) {
        self.init(store: store, users: store, connectors: connectors, clock: clock)
    }
}

/// Opens the data directory (created `0700`) and its SQLite database; `owner` is who the data
/// of a database from before users belongs to.
public func openDataDirectory(_ directory: URL, owner: UserID) throws -> SQLiteStore {
    try FileManager.default.createDirectory(
        at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
    return try SQLiteStore(path: directory.appendingPathComponent("bridges.sqlite").path, owner: owner)
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
            maxLivePerBridge: configuration.maxSessionsPerBridge, maxLivePerUser: configuration.maxSessionsPerUser,
            maxLiveTotal: configuration.maxSessionsTotal),
        clock: components.clock, logger: logger)
    try await service.recoverAfterRestart()
    _ = try await components.users.addUser(configuration.owner, at: Date())

    let spec = try OpenAPIDocument.yaml()
    let routes = try RouteTable(spec: spec)
    let tokens = AccessTokens(
        store: components.users, environmentToken: configuration.environmentToken, owner: configuration.owner)
    let router = Router(context: BridgesRequestContext.self)
    router.add(middleware: ClientAddressMiddleware())
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
    let matrix = configuration.matrixHomeserver.map { homeserver in
        MatrixSignIn(
            client: MatrixSignInClient(homeserver: homeserver, logger: logger), admission: configuration.signInAdmission,
            users: components.users, tokens: tokens, attempts: SignInAttempts(clock: components.clock))
    }
    let handler = APIHandler(service: service, tokens: tokens, matrix: matrix, info: { info.answer(port: portBox.value) }, spec: spec)
    // Compact JSON: pretty-printing costs time on every answer and helps no client.
    try handler.registerHandlers(
        on: router, configuration: Configuration(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
        middlewares: apiMiddlewares)
    if let demo {
        DemoRoutes(pages: DemoPages(environment: demo), service: service, tokens: tokens).register(on: router)
    }
    let webPage = try await WebPage(
        service: service, signIn: .server(tokens: tokens, users: components.users, matrix: matrix),
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
        services: [
            MaintenanceService(
                service: service, users: components.users, eventRefresh: configuration.eventRefresh,
                onShutdown: { await matrix?.client.shutdown() })
        ],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            portBox.value = port
            await onRunning(port)
        },
        logger: logger)
}

/// Runs the session sweeper, the refresh of bridges that change on their own, and the ending of
/// removed users' sessions alongside the server, until shutdown.
struct MaintenanceService: Service {
    let service: BridgesService
    let users: any UserStore
    let eventRefresh: Duration
    /// Releases what the server holds besides the service (HTTP clients).
    let onShutdown: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await service.runMaintenance() }
                group.addTask { await service.runEventRefresh(every: eventRefresh) }
                group.addTask { await endRemovedUsersSessions(every: .seconds(5)) }
            }
        }
        await service.shutdown()
        await onShutdown()
    }

    /// `bridges user remove` runs in another process: this one learns of it from the store.
    private func endRemovedUsersSessions(every interval: Duration) async {
        while !Task.isCancelled {
            try? await service.clock.sleep(for: interval)
            let owners = service.usersWithSessions
            guard !owners.isEmpty, let known = try? await users.users() else { continue }
            let present = Set(known.map(\.id))
            for user in owners where !present.contains(user) {
                await service.endSessions(of: user)
            }
        }
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
