import BridgesAPI
import BridgesCore
import BridgesStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// `/v1/ws`: the live feed of every change the `/v1/bridges` resource shows, with Beeper
/// Desktop's control messages (`ready`, `subscriptions.set`, `subscriptions.updated`, `error`).
struct EventsSocket {
    let service: BridgesService
    let tokens: AccessTokens
    /// Events a subscriber may fall behind by before it is closed.
    let bufferSize: Int
    /// How long a client without an `Authorization` header has to send its token.
    let authenticationWindow: Duration
    /// The web page's hook (BridgesWeb): the user whose page session cookie the request
    /// carries, only when its `Origin` is this server's own. Such a socket needs no token.
    var pageUser: @Sendable (Request) async -> UserID? = { _ in nil }

    func register(on router: Router<BasicWebSocketRequestContext>) {
        let tokens = self.tokens
        // A token in the header is checked before the upgrade, so a bad one gets a plain 401.
        // Without a header (a browser cannot set one) the first message must carry it.
        let shouldUpgrade: @Sendable (Request, BasicWebSocketRequestContext) async throws -> RouterShouldUpgrade = { request, _ in
            if request.headers[.authorization] != nil { _ = try await tokens.authenticate(request.headers) }
            return .upgrade([:])
        }
        let onUpgrade: WebSocketDataHandler<WebSocketRouterContext<BasicWebSocketRequestContext>> = { inbound, outbound, context in
            try await self.serve(inbound: inbound, outbound: outbound, request: context.request, logger: context.logger)
        }
        router.ws("/v1/ws", shouldUpgrade: shouldUpgrade, onUpgrade: onUpgrade)
    }

    private func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request, logger: Logger
    ) async throws {
        let connection = EventsConnection(service: service, outbound: outbound, logger: logger, bufferSize: bufferSize)
        let tokens = self.tokens
        let credential: EventsConnection.Credential
        if request.headers[.authorization] != nil {
            // Checked before the upgrade; a token revoked since then is refused here.
            guard let grant = try? await tokens.authenticate(request.headers) else {
                try? await outbound.close(.init(codeNumber: 4401), reason: "Unauthorized: the token is not valid.")
                return
            }
            credential = .granted(grant.userID)
        } else if let user = await pageUser(request) {
            credential = .granted(user)
        } else {
            credential = .firstMessage { @Sendable token in await tokens.grant(for: token)?.userID }
        }
        try await connection.run(inbound: inbound, credential: credential, within: authenticationWindow)
    }
}

/// One `/v1/ws` connection: reads commands, writes the events its subscriptions select.
final class EventsConnection: Sendable {
    private let service: BridgesService
    private let outbound: WebSocketOutboundWriter
    private let logger: Logger
    private let bufferSize: Int
    private let filter = EventFilter()
    private let sequence = SequenceNumbers()

    init(service: BridgesService, outbound: WebSocketOutboundWriter, logger: Logger, bufferSize: Int) {
        self.service = service
        self.outbound = outbound
        self.logger = logger
        self.bufferSize = bufferSize
    }

    /// How a connection learns whom it serves.
    enum Credential: Sendable {
        /// From the upgrade request: its token, or the web page's session cookie.
        case granted(UserID)
        /// From the first message, which must carry a token this resolves.
        case firstMessage(@Sendable (String) async -> UserID?)
    }

    /// Runs until the client leaves, the server stops, or the client falls too far behind.
    func run(inbound: WebSocketInboundStream, credential: Credential, within window: Duration) async throws {
        let messages = MessageReader(inbound)
        let user: UserID
        switch credential {
        case .granted(let granted):
            user = granted
        case .firstMessage(let authenticate):
            // A client that says nothing is closed when the window ends, which ends its read.
            let silence = Task { [outbound, clock = service.clock] in
                try await clock.sleep(for: window)
                try await outbound.close(.init(codeNumber: 4401), reason: "Unauthorized: no token within \(window).")
            }
            let message = try await messages.next()
            silence.cancel()
            guard case .text(let text) = message,
                let command = try? JSONDecoder().decode(Components.Schemas.AuthenticateCommand.self, from: Data(text.utf8)),
                let granted = await authenticate(command.token)
            else {
                try? await outbound.close(.init(codeNumber: 4401), reason: "Unauthorized: send a valid token first.")
                return
            }
            user = granted
        }
        // Subscribed before `ready`, so nothing that happens after the client sees `ready` is missed.
        let subscription = await service.subscribe(for: user, capacity: bufferSize)
        defer { subscription.cancel() }
        try await send(Components.Schemas.ReadyMessage(_type: .ready, version: 1, bridgeIDs: [], loginSessionIDs: []))

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.forward(subscription) }
            group.addTask {
                if await subscription.waitForEnd() == .overflowed { throw Overflowed() }
            }
            group.addTask {
                while let message = try await messages.next() {
                    try await self.handle(message)
                }
            }
            // The first to finish (the client left, or fell behind) ends the connection.
            do {
                try await group.next()
                group.cancelAll()
            } catch is Overflowed {
                group.cancelAll()
                logger.notice("closing an events subscriber that fell behind", metadata: ["buffer": "\(bufferSize)"])
                await closeFallenBehind()
            }
        }
    }

    private struct Overflowed: Error {}

    /// Sends the close frame, but does not wait long for it: a subscriber that stopped reading
    /// may never take it, and then returning drops the connection instead.
    private func closeFallenBehind() async {
        let outbound = self.outbound
        let reason = "Too slow: more than \(bufferSize) events behind. Resubscribe and re-read state."
        let sent = Task { try? await outbound.close(.policyViolation, reason: reason) }
        let clock = service.clock
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once(continuation)
            Task {
                await sent.value
                once.resume()
            }
            Task {
                try? await clock.sleep(for: .seconds(2))
                once.resume()
            }
        }
    }

    private func forward(_ subscription: EventSubscription) async throws {
        for await published in subscription where filter.selects(published.event) {
            try await outbound.write(.text(try EventEncoding.message(for: published, seq: sequence.next())))
        }
    }

    private func handle(_ message: WebSocketMessage) async throws {
        guard case .text(let text) = message else {
            try await sendError(nil, code: "unsupported_message", message: "Send JSON text messages.")
            return
        }
        let command: Command
        do {
            command = try JSONDecoder().decode(Command.self, from: Data(text.utf8))
        } catch {
            try await sendError(nil, code: "invalid_json", message: "Every message must be a JSON object with a type.")
            return
        }
        switch command.type {
        case "subscriptions.set":
            if command.chatIDs != nil {
                try await sendError(
                    command.requestID, code: "chat_subscriptions_unsupported",
                    message: "Bridges serves bridge events, not chats: subscribe with bridgeIDs or loginSessionIDs.")
                return
            }
            let bridgeIDs = command.bridgeIDs ?? []
            if bridgeIDs.contains("*"), bridgeIDs.count > 1 {
                try await sendError(
                    command.requestID, code: "invalid_subscription", message: "\"*\" cannot be mixed with bridge IDs.")
                return
            }
            let sessionIDs = command.loginSessionIDs ?? []
            filter.set(bridgeIDs: bridgeIDs, loginSessionIDs: sessionIDs)
            try await send(
                Components.Schemas.SubscriptionsUpdatedMessage(
                    _type: .subscriptions_updated, requestID: command.requestID, bridgeIDs: bridgeIDs,
                    loginSessionIDs: sessionIDs))
        case "authenticate":
            try await sendError(command.requestID, code: "already_authenticated", message: "This connection is authenticated.")
        default:
            try await sendError(
                command.requestID, code: "unknown_command",
                message: "Unknown command type '\(command.type)'; this server takes subscriptions.set.")
        }
    }

    private func send(_ message: some Encodable) async throws {
        try await outbound.write(.text(try EventEncoding.control(message)))
    }

    /// A command the server could not take; the connection stays open.
    private func sendError(_ requestID: String?, code: String, message: String) async throws {
        try await send(Components.Schemas.ErrorMessage(_type: .error, requestID: requestID, code: code, message: message))
    }

    /// What a client may send; unknown keys are ignored.
    private struct Command: Decodable {
        var type: String
        var requestID: String?
        var bridgeIDs: [String]?
        var loginSessionIDs: [String]?
        /// Beeper Desktop's chat subscriptions, refused with a clear error.
        var chatIDs: [String]?
    }
}

/// The one iterator over a connection's messages. The authentication step reads it first, then
/// only the reading task does: never two at once, which is what makes sharing it safe.
private final class MessageReader: @unchecked Sendable {
    private var iterator: WebSocketInboundMessageStream.AsyncIterator

    init(_ inbound: WebSocketInboundStream) {
        iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
    }

    func next() async throws -> WebSocketMessage? {
        try await iterator.next()
    }
}

/// Resumes a continuation the first time only; the racers after it find nothing to do.
private final class Once: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume() {
        continuation.withLock { $0.take() }?.resume()
    }
}
