import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1 server with WebSocket upgrades, plus what its request parsing lacks: when NIO
/// refuses a request head (too many or too large headers) before the upgrade negotiation has
/// seen it, the library neither answers nor closes, and the connection hangs. Here such a
/// connection gets the 400 the plain HTTP server gives, and is closed.
struct GuardedUpgradeChannel: ServerChildChannel {
    let inner: HTTP1WebSocketUpgradeChannel

    struct Value: ServerChildChannelValue {
        let inner: HTTP1WebSocketUpgradeChannel.Value
        var channel: any Channel { inner.channel }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let raw = RawBytesWriter()
            try channel.pipeline.syncOperations.addHandler(raw, position: .first)
            return NIOLoopBound(raw, eventLoop: channel.eventLoop)
        }.flatMap { raw in
            inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
                // Last in the pipeline: parsing errors travel there, and nothing else takes them.
                try channel.pipeline.syncOperations.addHandler(
                    HeadErrorAnswer(raw: raw.value, answer: Self.answer), position: .last)
                return Value(inner: value)
            }
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value.inner, logger: logger)
    }

    private static let body = #"{"code":"bad_request","message":"The request head could not be read (too many or too large headers)."}"#

    static let answer =
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\n"
        + "content-length: \(body.utf8.count)\r\nx-should-retry: false\r\n\r\n\(body)"

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

/// Answers a request head NIO could not parse with a plain 400, through the raw writer.
final class HeadErrorAnswer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let raw: RawBytesWriter
    private let answer: String

    init(raw: RawBytesWriter, answer: String) {
        self.raw = raw
        self.answer = answer
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        raw.writeAndClose(answer)
    }
}
