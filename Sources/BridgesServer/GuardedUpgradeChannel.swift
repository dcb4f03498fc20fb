import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// The HTTP/1 server with WebSocket upgrades, plus what its request parsing lacks: a request
/// whose head NIO refuses (too many or too large headers) fails the upgrade negotiation, and
/// the library then leaves the connection open with no answer. Here such a connection gets
/// the 400 the plain HTTP server gives, and is closed.
struct GuardedUpgradeChannel: ServerChildChannel {
    let inner: HTTP1WebSocketUpgradeChannel

    struct Value: ServerChildChannelValue {
        let inner: HTTP1WebSocketUpgradeChannel.Value
        let raw: NIOLoopBound<RawBytesWriter>
        var channel: any Channel { inner.channel }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let raw = RawBytesWriter()
            try channel.pipeline.syncOperations.addHandler(raw, position: .first)
            return NIOLoopBound(raw, eventLoop: channel.eventLoop)
        }.flatMap { raw in
            inner.setup(channel: channel, logger: logger).map { Value(inner: $0, raw: raw) }
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value.inner, logger: logger)
        // Every path that answered closed the connection; one still open was never answered.
        guard value.channel.isActive else { return }
        logger.debug("answering a request whose head could not be read with 400")
        let answer =
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\n"
            + "content-length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        let raw = value.raw
        try? await value.channel.eventLoop.submit { raw.value.writeAndClose(answer) }.get()
    }

    private static let body = #"{"code":"bad_request","message":"The request head could not be read (too many or too large headers)."}"#

    static func builder(webSocketRouter: Router<BasicWebSocketRequestContext>, configuration: WebSocketServerConfiguration) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            GuardedUpgradeChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder, configuration: configuration))
        }
    }
}

/// Sits first in the pipeline, next to the socket, so what it writes skips the HTTP encoder.
final class RawBytesWriter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// On the channel's event loop only.
    func writeAndClose(_ text: String) {
        guard let context else { return }
        // A small answer goes to the socket at once, so closing right after it loses nothing.
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        context.close(promise: nil)
    }
}
