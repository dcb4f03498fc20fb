import BridgesClient
import NIOCore
import NIOPosix
import Testing

@Suite(.timeLimit(.minutes(2))) struct ConnectionErrorTests {
    @Test func aServerThatIsNotRunningIsARefusedConnection() async throws {
        // Listen on a fresh port and stop, so nothing is there when the client connects.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress?.port ?? 0
        try await listener.close()

        let client = try BridgesClient(accessToken: "t", baseURL: "http://127.0.0.1:\(port)", maxRetries: 0, environment: [:])
        let error = await #expect(throws: BridgesClientError.self) { try await client.bridges.list() }
        guard case .connection(let failure) = error else {
            Issue.record("expected a connection error, got \(String(describing: error))")
            return
        }
        #expect(failure == .refused)
    }
}
