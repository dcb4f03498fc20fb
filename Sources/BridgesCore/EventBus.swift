import Foundation
import Synchronization

/// Where the core publishes every change. One process uses ``LocalEventBus``; several instances
/// sharing a database would use one that also carries events between them.
///
/// Every event belongs to one user and reaches only that user's subscribers.
public protocol EventBus: Sendable {
    /// Hands the event to every subscriber of `user` without waiting for any of them.
    func publish(_ event: BridgeEvent, to user: UserID)

    /// A new subscriber to the user's events that buffers at most `capacity` of them; one that
    /// falls further behind is ended with ``EventSubscription/End/overflowed`` rather than
    /// slowing anyone down.
    func subscribe(for user: UserID, capacity: Int) -> EventSubscription

    /// How many subscribers there are now, of every user.
    var subscriberCount: Int { get }

    /// The users with subscribers now; background refreshes run only for them.
    var subscribedUsers: Set<UserID> { get }

    func hasSubscribers(_ user: UserID) -> Bool
}

/// One published change, the same object for every subscriber: when it happened, and one
/// place to keep its rendering, so that a thousand subscribers cost one encoding.
public final class PublishedEvent: Sendable {
    public let event: BridgeEvent
    public let user: UserID
    public let at: Date
    private let rendering = Mutex<(any Sendable)?>(nil)

    init(_ event: BridgeEvent, user: UserID, at: Date) {
        self.event = event
        self.user = user
        self.at = at
    }

    /// The value `make` returns, made by the first caller and kept for the others.
    public func rendered<Value: Sendable>(_ make: () throws -> Value) rethrows -> Value {
        if let kept = rendering.withLock({ $0 as? Value }) { return kept }
        let made = try make()
        rendering.withLock { $0 = made }
        return made
    }
}

/// One subscriber's events, in the order they were published.
public final class EventSubscription: AsyncSequence, Sendable {
    public typealias Element = PublishedEvent

    /// Why a subscription's events ended.
    public enum End: Sendable, Equatable {
        case cancelled
        /// The subscriber did not keep up and its buffer filled.
        case overflowed
    }

    private struct Ending {
        var end: End?
        var waiters: [UUID: CheckedContinuation<End, Never>] = [:]
    }

    private let stream: AsyncStream<PublishedEvent>
    private let ending = Mutex(Ending())
    private let onCancel: @Sendable () -> Void

    init(stream: AsyncStream<PublishedEvent>, onCancel: @escaping @Sendable () -> Void) {
        self.stream = stream
        self.onCancel = onCancel
    }

    /// Returns once the events end, with why; a waiting task that is cancelled gets `.cancelled`.
    /// A subscriber stuck writing can learn here that it fell behind.
    public func waitForEnd() async -> End {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<End, Never>) in
                let ended: End? = ending.withLock { ending in
                    if let end = ending.end { return end }
                    if Task.isCancelled { return .cancelled }
                    ending.waiters[id] = continuation
                    return nil
                }
                if let ended { continuation.resume(returning: ended) }
            }
        } onCancel: {
            ending.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: .cancelled)
        }
    }

    func finish(with end: End) {
        let waiters: [CheckedContinuation<End, Never>] = ending.withLock { ending in
            guard ending.end == nil else { return [] }
            ending.end = end
            defer { ending.waiters.removeAll() }
            return Array(ending.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: end) }
    }

    /// Stops the events; iteration ends.
    public func cancel() {
        finish(with: .cancelled)
        onCancel()
    }

    public func makeAsyncIterator() -> AsyncStream<PublishedEvent>.Iterator {
        stream.makeAsyncIterator()
    }
}

/// The in-process bus: each subscriber has a bounded buffer of its own.
public final class LocalEventBus: EventBus {
    private typealias Subscriber = (subscription: EventSubscription, continuation: AsyncStream<PublishedEvent>.Continuation)

    /// Subscribers by user, so publishing visits only the user's own.
    private let subscribers = Mutex<[UserID: [UUID: Subscriber]]>([:])

    public init() {}

    public var subscriberCount: Int { subscribers.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    public var subscribedUsers: Set<UserID> { subscribers.withLock { Set($0.keys) } }

    public func hasSubscribers(_ user: UserID) -> Bool { subscribers.withLock { $0[user] != nil } }

    public func publish(_ event: BridgeEvent, to user: UserID) {
        let event = PublishedEvent(event, user: user, at: Date())
        let overflowed = subscribers.withLock { subscribers -> [Subscriber] in
            guard let own = subscribers[user] else { return [] }
            var overflowed: [Subscriber] = []
            for (id, subscriber) in own {
                if case .dropped = subscriber.continuation.yield(event) {
                    overflowed.append(subscriber)
                    _ = Self.remove(id, of: user, from: &subscribers)
                }
            }
            return overflowed
        }
        // Outside the lock: finishing a stream runs its termination handler, which takes it.
        for subscriber in overflowed {
            subscriber.subscription.finish(with: .overflowed)
            subscriber.continuation.finish()
        }
    }

    public func subscribe(for user: UserID, capacity: Int) -> EventSubscription {
        let id = UUID()
        let (stream, continuation) = AsyncStream<PublishedEvent>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        let subscription = EventSubscription(stream: stream) { [weak self] in
            self?.subscribers.withLock { Self.remove(id, of: user, from: &$0) }?.continuation.finish()
        }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { _ = Self.remove(id, of: user, from: &$0) }
        }
        subscribers.withLock { $0[user, default: [:]][id] = (subscription, continuation) }
        return subscription
    }

    private static func remove(_ id: UUID, of user: UserID, from subscribers: inout [UserID: [UUID: Subscriber]]) -> Subscriber? {
        let removed = subscribers[user]?.removeValue(forKey: id)
        if subscribers[user]?.isEmpty == true { subscribers[user] = nil }
        return removed
    }
}
