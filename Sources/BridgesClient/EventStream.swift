import BridgesAPI
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Synchronization

public typealias EventMessage = Components.Schemas.EventMessage

/// The `/v1/ws` endpoint is not there: Beeper Desktop, or anything else that answers the upgrade
/// with something other than 101. Callers that can fall back to polling do so.
public struct EventsUnavailable: Error, CustomStringConvertible {
    public let description: String
}

/// What a connection produces: events, and a mark each time a (re)connection's subscriptions are
/// in place, after which state read over HTTP cannot miss a later event.
enum EventFeedItem: Sendable {
    case subscribed
    case event(EventMessage)
}

/// How the event stream waits between reconnections; tests pass one that returns at once.
public typealias EventStreamSleep = @Sendable (Duration) async throws -> Void

extension BridgesClient {
    /// Live events from `/v1/ws`: every change of the bridges, logins, accounts and login
    /// sessions followed, as the generated ``EventMessage`` the HTTP models are part of.
    ///
    /// The stream reconnects after a dropped connection (and after the server closes a subscriber
    /// that fell behind, code 1008), waiting `min(0.5 s × 2ⁿ, 8 s)` times a jitter like every
    /// request does, and sets the same subscriptions again; events that happened while it was
    /// away are not replayed, so re-read what matters. It ends by throwing ``EventsUnavailable``
    /// when the server has no `/v1/ws`, or after `maxRetries` connection attempts in a row fail.
    ///
    /// - Parameters:
    ///   - bridgeIDs: The bridges to follow; `["*"]` for all, `[]` for none.
    ///   - loginSessionIDs: Single login sessions to follow, whatever `bridgeIDs` says.
    public func events(
        bridgeIDs: [String] = ["*"], loginSessionIDs: [String] = []
    ) -> some AsyncSequence<EventMessage, any Error> {
        eventSource.feed(bridgeIDs: bridgeIDs, loginSessionIDs: loginSessionIDs).compactMap { item in
            if case .event(let event) = item { event } else { nil }
        }
    }

    /// Where and how this client connects for events.
    var eventSource: EventSource {
        EventSource(
            url: Self.webSocketURL(baseURL, path: eventsPath), token: accessToken ?? "", maxRetries: maxRetries, sleep: eventSleep)
    }

    static func webSocketURL(_ base: URL, path: String) -> String {
        let text = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        if text.hasPrefix("https") { return "wss" + text.dropFirst(5) + path }
        return "ws" + text.dropFirst(4) + path
    }
}

/// The connection settings of a client's event stream, handed to what follows events.
struct EventSource: Sendable {
    let url: String
    let token: String
    let maxRetries: Int
    let sleep: EventStreamSleep

    /// The connection loop behind ``BridgesClient/events(bridgeIDs:loginSessionIDs:)``, with its
    /// subscription marks.
    func feed(bridgeIDs: [String], loginSessionIDs: [String]) -> AsyncThrowingStream<EventFeedItem, any Error> {
        let connector = EventConnector(
            url: url, token: token, maxRetries: maxRetries, sleep: sleep,
            subscription: SubscriptionsSet(bridgeIDs: bridgeIDs, loginSessionIDs: loginSessionIDs))
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await connector.run { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// The `subscriptions.set` command as the server reads it.
struct SubscriptionsSet: Encodable, Sendable {
    var type = "subscriptions.set"
    var requestID = "sdk"
    var bridgeIDs: [String]
    var loginSessionIDs: [String]
}

/// Connects, subscribes and reads until the stream's consumer goes away, reconnecting as the
/// SDK's retry policy says.
struct EventConnector: Sendable {
    let url: String
    let token: String
    let maxRetries: Int
    let sleep: EventStreamSleep
    let subscription: SubscriptionsSet

    /// Why one connection ended, when it was not the consumer's doing.
    private enum Outcome {
        /// The connection had subscribed before it dropped: reconnect at once, counting afresh.
        case dropped
        /// It never got as far as its subscriptions.
        case failed(any Error)
    }

    func run(_ deliver: @escaping @Sendable (EventFeedItem) -> Void) async throws {
        var failures = 0
        var everConnected = false
        while !Task.isCancelled {
            switch await connectOnce(deliver) {
            case .dropped:
                everConnected = true
                failures = 0
                try await sleep(RetryMiddleware.backoff(attempt: 0))
            case .failed(let error):
                if let unavailable = error as? EventsUnavailable, !everConnected { throw unavailable }
                if let refused = error as? BridgesClientError { throw refused }
                guard failures < maxRetries else { throw error }
                try await sleep(RetryMiddleware.backoff(attempt: failures))
                failures += 1
            }
        }
        throw CancellationError()
    }

    private func connectOnce(_ deliver: @escaping @Sendable (EventFeedItem) -> Void) async -> Outcome {
        let subscribed = SubscribedFlag()
        let command = (try? JSONEncoder().encode(subscription)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            let close = try await WebSocketClient.connect(
                url: url,
                configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer \(token)"]),
                logger: Logger(label: "bridges-client.events", factory: { _ in SwiftLogNoOpLogHandler() })
            ) { inbound, outbound, _ in
                try await outbound.write(.text(command))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    let data = Data(text.utf8)
                    switch (try? decoder.decode(ControlMessage.self, from: data))?.type ?? "" {
                    case "subscriptions.updated":
                        subscribed.set()
                        deliver(.subscribed)
                    case "error", "ready":
                        continue
                    default:
                        // An event this SDK does not know yet is skipped, not a reason to drop the connection.
                        if let event = try? decoder.decode(EventMessage.self, from: data) { deliver(.event(event)) }
                    }
                }
            }
            if let close, close.closeCode == WebSocketErrorCode(codeNumber: 4401) {
                let body = ErrorBody(message: close.reason ?? "Unauthorized", code: "unauthorized")
                return .failed(BridgesClientError.api(APIStatusError(status: 401, body: body)))
            }
            return subscribed.isSet ? .dropped : .failed(TransportFailure.closed)
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            return .failed(EventsUnavailable(description: "The server does not serve /v1/ws (the upgrade was refused)."))
        } catch {
            return subscribed.isSet ? .dropped : .failed(error)
        }
    }
}

private struct ControlMessage: Decodable {
    var type: String
}

/// Set once a connection's subscriptions are confirmed, read after the connection ends.
private final class SubscribedFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
