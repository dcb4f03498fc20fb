import AsyncHTTPClient
import HTTPTransport
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Each case gets its failure from a real socket on loopback, so the classifier is checked
/// against what AsyncHTTPClient and NIO actually throw, not against errors made up to fit it.
@Suite(.timeLimit(.minutes(2))) struct TransportFailureTests {
    @Test func aClosedPortIsRefusedThroughAsyncHTTPClient() async throws {
        let port = try await closedPort()
        let error = await requestError("http://127.0.0.1:\(port)/")
        #expect(TransportFailure(classifying: error) == .refused)
    }

    @Test func aClosedPortIsRefusedThroughABootstrap() async throws {
        let port = try await closedPort()
        let error = await #expect(throws: (any Error).self) {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
        }
        #expect(error.map(TransportFailure.init(classifying:)) == .refused)
    }

    @Test func aConnectionClosedBeforeTheAnswerIsClosed() async throws {
        try await withServer({ CloseOnRead() }) { port in
            let error = await requestError("http://127.0.0.1:\(port)/")
            #expect(TransportFailure(classifying: error) == .closed)
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        // The server never answers, so the outcome does not depend on how fast anything runs.
        try await withServer({ NeverAnswer() }) { port in
            let deadline = await requestError("http://127.0.0.1:\(port)/", timeout: .milliseconds(50))
            #expect(TransportFailure(classifying: deadline) == .timedOut)
            let read = await requestError("http://127.0.0.1:\(port)/", readTimeout: .milliseconds(50))
            #expect(TransportFailure(classifying: read) == .timedOut)
        }
    }

    @Test(arguments: [
        (HTTPClientError.connectTimeout as any Error, TransportFailure.connectTimedOut),
        (HTTPClientError.remoteConnectionClosed, .closed),
        (HTTPClientError.tlsHandshakeTimeout, .tls),
        (ChannelError.connectTimeout(.seconds(1)), .connectTimedOut),
        (ChannelError.eof, .closed),
        (IOError(errnoCode: ECONNRESET, reason: "read"), .closed),
        (IOError(errnoCode: ECONNREFUSED, reason: "connect"), .refused),
        (TransportFailure.tls, .tls),
    ])
    func errorsAreClassifiedByType(error: any Error, expected: TransportFailure) {
        #expect(TransportFailure(classifying: error) == expected)
    }

    @Test func otherErrorsKeepTheirDescriptionAndAreNotTransient() {
        struct Unrelated: Error, CustomStringConvertible {
            var description: String { "connection refused, says the text" }
        }
        let failure = TransportFailure(classifying: Unrelated())
        #expect(failure == .other("connection refused, says the text"))
        #expect(!failure.isTransient)
        #expect(TransportFailure.refused.isTransient)
    }
}

private func requestError(
    _ url: String, timeout: TimeAmount = .seconds(30), readTimeout: TimeAmount? = nil
) async -> any Error {
    var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: readTimeout))
    configuration.connectionPool.retryConnectionEstablishment = false
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    let failure: any Error
    do {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: timeout)
        _ = try await response.body.collect(upTo: 1 << 20)
        Issue.record("expected \(url) to fail")
        failure = CancellationError()
    } catch {
        failure = error
    }
    try? await client.shutdown()
    return failure
}

/// A port that was just listened on and closed, so nothing listens there.
private func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

private func withServer<Handler: ChannelInboundHandler>(
    _ makeHandler: @escaping @Sendable () -> Handler, _ body: (Int) async throws -> Void
) async throws {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(makeHandler()) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    do {
        try await body(channel.localAddress?.port ?? 0)
    } catch {
        try? await channel.close()
        throw error
    }
    try await channel.close()
}

private final class CloseOnRead: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }
}

private final class NeverAnswer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
}
