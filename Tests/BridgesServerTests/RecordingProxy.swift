import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A TCP forwarder in front of a test server: it keeps what clients sent (to count the requests
/// a client made, WebSocket frames included) and can cut every open connection, as a network
/// drop would.
final class RecordingProxy: Sendable {
    let port: Int
    private let sent = Mutex("")
    private let open = Mutex<[any Channel]>([])

    private init(port: Int) {
        self.port = port
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Everything clients sent so far, as text.
    var sentText: String { sent.withLock { $0 } }

    /// How many requests with this method started with `pathPrefix` went through.
    func requests(_ method: String, _ pathPrefix: String) -> Int {
        sentText.components(separatedBy: "\(method) \(pathPrefix)").count - 1
    }

    /// Closes every open connection, both ways.
    func cut() {
        for channel in open.withLock({ channels in defer { channels = [] }; return channels }) { channel.close(promise: nil) }
    }

    /// Starts a proxy to `127.0.0.1:targetPort`, runs `body`, and stops it.
    static func run<Value: Sendable>(
        targetPort: Int, _ body: @Sendable (RecordingProxy) async throws -> Value
    ) async throws -> Value {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let proxy = RecordingProxy(port: server.channel.localAddress?.port ?? 0)
        let accepting = Task {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { connections in
                    for try await connection in inbound {
                        connections.addTask { try? await proxy.forward(connection, targetPort: targetPort, group: group) }
                    }
                }
            }
        }
        defer {
            accepting.cancel()
            server.channel.close(promise: nil)
            proxy.cut()
        }
        return try await body(proxy)
    }

    private func forward(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, targetPort: Int, group: any EventLoopGroup
    ) async throws {
        let upstream = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: targetPort) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        open.withLock { $0 += [connection.channel, upstream.channel] }
        try await connection.executeThenClose { clientIn, clientOut in
            try await upstream.executeThenClose { serverIn, serverOut in
                try await withThrowingTaskGroup(of: Void.self) { directions in
                    directions.addTask {
                        for try await bytes in clientIn {
                            self.sent.withLock { $0 += String(buffer: bytes) }
                            try await serverOut.write(bytes)
                        }
                    }
                    directions.addTask {
                        for try await bytes in serverIn { try await clientOut.write(bytes) }
                    }
                    // Either side ending ends the pair.
                    try await directions.next()
                    directions.cancelAll()
                }
            }
        }
    }
}
