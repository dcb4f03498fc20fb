import Foundation
import Synchronization

/// Where the core publishes every change. One process uses ``LocalEventBus``; several instances
/// sharing a database would use one that also carries events between them.
public protocol EventBus: Sendable {
    /// Hands the event to every subscriber without waiting for any of them.
    func publish(_ event: BridgeEvent)

    /// A new subscriber that buffers at most `capacity` events; one that falls further behind
    /// is ended with ``EventSubscription/End/overflowed`` rather than slowing anyone down.
    func subscribe(capacity: Int) -> EventSubscription

    /// How many subscribers there are now; background refreshes run only while someone listens.
    var subscriberCount: Int { get }
}

/// One subscriber's events, in the order they were published.
public final class EventSubscription: AsyncSequence, Sendable {
    public typealias Element = BridgeEvent

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

    private let stream: AsyncStream<BridgeEvent>
    private let ending = Mutex(Ending())
    private let onCancel: @Sendable () -> Void

    init(stream: AsyncStream<BridgeEvent>, onCancel: @escaping @Sendable () -> Void) {
        self.stream = stream
        self.onCancel = onCancel
    }

    /// Set once the events ended; `nil` while they flow.
    public var end: End? { ending.withLock { $0.end } }

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

    public func makeAsyncIterator() -> AsyncStream<BridgeEvent>.Iterator {
        stream.makeAsyncIterator()
    }
}

/// The in-process bus: each subscriber has a bounded buffer of its own.
public final class LocalEventBus: EventBus {
    private let subscribers = Mutex<[UUID: (subscription: EventSubscription, continuation: AsyncStream<BridgeEvent>.Continuation)]>([:])

    public init() {}

    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    public func publish(_ event: BridgeEvent) {
        let overflowed = subscribers.withLock { subscribers in
            var overflowed: [(subscription: EventSubscription, continuation: AsyncStream<BridgeEvent>.Continuation)] = []
            for (id, subscriber) in subscribers {
                if case .dropped = subscriber.continuation.yield(event) {
                    overflowed.append(subscriber)
                    subscribers[id] = nil
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

    public func subscribe(capacity: Int) -> EventSubscription {
        let id = UUID()
        let (stream, continuation) = AsyncStream<BridgeEvent>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        let subscription = EventSubscription(stream: stream) { [weak self] in
            self?.subscribers.withLock { $0.removeValue(forKey: id) }?.continuation.finish()
        }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { _ = $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = (subscription, continuation) }
        return subscription
    }
}
