import NIOCore
import Synchronization

/// Tells when the client goes away (half-close or close), which Hummingbird does not report to
/// handlers: the old generation fails a login whose long-poll loses its client.
final class ConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let state = Mutex<(closed: Bool, next: UInt64, callbacks: [UInt64: @Sendable () -> Void])>((false, 0, [:]))

    /// Calls `callback` once the client has gone away (at once if it already has); nil then.
    func onClose(_ callback: @escaping @Sendable () -> Void) -> UInt64? {
        let token: UInt64? = state.withLock { s in
            if s.closed { return nil }
            s.next += 1
            s.callbacks[s.next] = callback
            return s.next
        }
        if token == nil { callback() }
        return token
    }

    func removeCallback(_ token: UInt64) {
        _ = state.withLock { $0.callbacks.removeValue(forKey: token) }
    }

    private func fire() {
        let callbacks = state.withLock { s in
            s.closed = true
            let callbacks = s.callbacks.values
            s.callbacks.removeAll()
            return Array(callbacks)
        }
        for callback in callbacks { callback() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fire()
        context.fireChannelInactive()
    }
}
