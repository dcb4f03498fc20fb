import BridgesAPI
import BridgesCore
import Foundation
import Synchronization

/// Events as `/v1/ws` sends them: the OpenAPI document's `EventMessage`, each carrying the
/// same object a GET of it answers, made by the same mapping.
enum EventEncoding {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// The message for one connection: the event is encoded once for all of them, and only
    /// its `seq` differs.
    static func message(for published: PublishedEvent, seq: Int) throws -> String {
        let parts = try published.rendered { () throws -> RenderedEvent in
            let text = try message(for: published.event, seq: 0, at: published.at)
            // Keys are sorted, so the top-level `seq` follows `data` and is the last one.
            guard let marker = text.range(of: #","seq":0,"ts":""#, options: .backwards) else {
                return RenderedEvent(beforeSeq: text, afterSeq: nil)
            }
            return RenderedEvent(
                beforeSeq: String(text[..<marker.lowerBound]) + #","seq":"#,
                afterSeq: #","ts":""# + String(text[marker.upperBound...]))
        }
        guard let afterSeq = parts.afterSeq else { return try message(for: published.event, seq: seq, at: published.at) }
        return parts.beforeSeq + String(seq) + afterSeq
    }

    private struct RenderedEvent: Sendable {
        var beforeSeq: String
        var afterSeq: String?
    }

    static func message(for event: BridgeEvent, seq: Int, at date: Date) throws -> String {
        let bridgeID = event.bridgeID
        let message: Components.Schemas.EventMessage
        switch event {
        case .bridgeUpdated(let view):
            message = .bridge_updated(.init(_type: .bridge_updated, seq: seq, ts: date, bridgeID: bridgeID, data: Wire.bridge(view)))
        case .loginUpserted(let bridge, let login):
            message = .login_upserted(
                .init(_type: .login_upserted, seq: seq, ts: date, bridgeID: bridgeID, data: Wire.login(login, bridgeID: bridge.id)))
        case .loginDeleted(_, let loginID, let accountIDs):
            message = .login_deleted(
                .init(
                    _type: .login_deleted, seq: seq, ts: date, bridgeID: bridgeID,
                    data: .init(bridgeID: bridgeID, loginID: loginID, accountIDs: accountIDs)))
        case .accountUpdated(let view):
            message = .account_updated(.init(_type: .account_updated, seq: seq, ts: date, bridgeID: bridgeID, data: Wire.account(view)))
        case .loginSessionUpdated(let view):
            message = .loginSession_updated(
                .init(_type: .loginSession_updated, seq: seq, ts: date, bridgeID: bridgeID, data: Wire.session(view)))
        }
        return String(decoding: try encoder.encode(message), as: UTF8.self)
    }

    /// A control message (`ready`, `subscriptions.updated`, `error`) as one text frame.
    static func control(_ message: some Encodable) throws -> String {
        String(decoding: try encoder.encode(message), as: UTF8.self)
    }
}

/// What one connection subscribed to; replaced whole by each `subscriptions.set`.
final class EventFilter: Sendable {
    private struct Subscriptions {
        var allBridges = false
        var bridgeIDs: Set<String> = []
        var loginSessionIDs: Set<String> = []
    }

    private let subscriptions = Mutex(Subscriptions())

    func set(bridgeIDs: [String], loginSessionIDs: [String]) {
        subscriptions.withLock {
            $0 = Subscriptions(
                allBridges: bridgeIDs == ["*"], bridgeIDs: Set(bridgeIDs), loginSessionIDs: Set(loginSessionIDs))
        }
    }

    func selects(_ event: BridgeEvent) -> Bool {
        subscriptions.withLock { subscriptions in
            if subscriptions.allBridges || subscriptions.bridgeIDs.contains(event.bridgeID) { return true }
            return event.loginSessionID.map(subscriptions.loginSessionIDs.contains) ?? false
        }
    }
}

/// Numbers a connection's events from 1, so a client can tell it missed none.
final class SequenceNumbers: Sendable {
    private let last = Atomic<Int>(0)

    func next() -> Int { last.add(1, ordering: .relaxed).newValue }
}
