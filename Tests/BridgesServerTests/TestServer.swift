import AsyncHTTPClient
import BridgesClient
import BridgesCore
import BridgesServer
import BridgesStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime
import Synchronization

/// A real server on a loopback port, driven over HTTP by the generated client.
struct TestServer {
    let client: Client
    let baseURL: String
    let token: String
    /// The server's database, for tests that add users and tokens.
    let store: SQLiteStore
    let owner: UserID

    /// Starts a server on an ephemeral port, runs `body`, and stops the server. Tests about
    /// time pass a `ManualClock` and move it themselves.
    static func run<Value: Sendable>(
        dataDirectory: URL? = nil, logs: LogRecorder? = nil, clock: AnyClock = .continuous,
        configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestServer) async throws -> Value
    ) async throws -> Value {
        let directory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("bridges-test-\(UUID().uuidString)")
        var configuration = ServerConfiguration(dataDirectory: directory)
        configuration.port = 0
        configuration.environmentToken = "test-token-\(UUID().uuidString)"
        configuration.demoQRRefresh = .seconds(1)
        configuration.demoNothingDelay = .milliseconds(300)
        configuration.displayWait = .seconds(5)
        configure(&configuration)
        let store = try openDataDirectory(directory, owner: configuration.owner)
        var logger = Logger(label: "test") { label in logs.map { $0.handler(label: label) } ?? SwiftLogNoOpLogHandler() }
        logger.logLevel = .trace
        let app = try await buildApplication(configuration: configuration, components: ServerComponents(store: store, clock: clock), logger: logger)
        let token = configuration.environmentToken ?? ""
        let owner = configuration.owner
        return try await app.test(.live) { testClient in
            let port = testClient.port ?? 0
            let baseURL = "http://127.0.0.1:\(port)"
            let client = Client(
                serverURL: URL(string: baseURL)!, transport: AsyncHTTPClientTransport(),
                middlewares: [BearerTokenMiddleware(token: token)])
            return try await body(
                TestServer(client: client, baseURL: baseURL, token: token, store: store, owner: owner))
        }
    }

    /// A new user with a token of their own, and a client that acts as them.
    func user(_ id: UserID) async throws -> (client: Client, token: String) {
        _ = try await store.addUser(id, at: Date())
        let tokens = AccessTokens(store: store, environmentToken: nil, owner: owner)
        let (_, secret) = try await tokens.create(name: "test", for: id)
        let client = Client(
            serverURL: URL(string: baseURL)!, transport: AsyncHTTPClientTransport(),
            middlewares: [BearerTokenMiddleware(token: secret)])
        return (client, secret)
    }

    /// A raw request, for what the generated client cannot send (malformed bodies, no token).
    func raw(
        _ method: HTTPMethod, _ path: String, body: String? = nil, bytes: [UInt8]? = nil, headers: [String: String] = [:],
        authorized: Bool = true
    ) async throws -> (status: Int, body: String, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if authorized { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        if let bytes { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), String(buffer: collected), response.headers)
    }

    /// A raw request whose JSON answer is decoded into a dictionary.
    func rawJSON(
        _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [String: String] = [:], authorized: Bool = true
    ) async throws -> (status: Int, json: [String: Any]) {
        let response = try await raw(method, path, body: body, headers: headers, authorized: authorized)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, json)
    }
}

/// Keeps every log line, with its metadata, so a test can search them.
final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func handler(label: String) -> any LogHandler { Handler(recorder: self) }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            recorder.append("\(event.level) \(event.message) \(all)")
        }
    }
}
