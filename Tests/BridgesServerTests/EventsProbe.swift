import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Synchronization

/// A `/v1/ws` client for tests, over a real socket: it collects what the server sends, sends
/// what the test asks, and can stop reading (a stuck subscriber) until told to go on.
final class EventsProbe: Sendable {
    private let received: AsyncStream<String>
    private let outgoing: AsyncStream<String>.Continuation
    private let gate: ReadingGate
    let connection: Task<WebSocketCloseFrame?, any Error>

    /// Connects with `headers` (the bearer token, unless a test leaves it out). With
    /// `reading: false` nothing is read from the socket until ``resumeReading()``.
    init(server: TestServer, headers: HTTPFields? = nil, reading: Bool = true) {
        let (received, receivedInput) = AsyncStream<String>.makeStream()
        let (outgoingStream, outgoing) = AsyncStream<String>.makeStream()
        self.received = received
        self.outgoing = outgoing
        let gate = ReadingGate(open: reading)
        self.gate = gate
        let url = server.baseURL.replacingOccurrences(of: "http", with: "ws", options: .anchored) + "/v1/ws"
        let headers = headers ?? [.authorization: "Bearer \(server.token)"]
        connection = Task {
            defer { receivedInput.finish() }
            return try await WebSocketClient.connect(
                url: url, configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers),
                logger: Logger(label: "events-probe")
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in outgoingStream { try await outbound.write(.text(text)) }
                    }
                    await gate.wait()
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { receivedInput.yield(text) }
                    }
                    group.cancelAll()
                }
            }
        }
    }

    func resumeReading() {
        gate.open()
    }

    func send(_ json: String) {
        outgoing.yield(json)
    }

    func subscribe(bridgeIDs: [String] = ["*"], loginSessionIDs: [String] = [], requestID: String = "r1") {
        let body: [String: Any] = [
            "type": "subscriptions.set", "requestID": requestID, "bridgeIDs": bridgeIDs, "loginSessionIDs": loginSessionIDs,
        ]
        if let data = try? JSONSerialization.data(withJSONObject: body) { send(String(decoding: data, as: UTF8.self)) }
    }

    func close() {
        outgoing.finish()
        connection.cancel()
    }

    /// The messages in the order they came, one iterator per test.
    func messages() -> Messages { Messages(iterator: received.makeAsyncIterator()) }

    struct Messages {
        var iterator: AsyncStream<String>.Iterator

        /// The next message as raw JSON text, or `nil` once the connection ended.
        mutating func nextText() async -> String? { await iterator.next() }

        /// The next message, decoded as a dictionary.
        mutating func next() async -> [String: Any]? {
            guard let text = await iterator.next() else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        }

        /// The types of the next `count` messages.
        mutating func types(_ count: Int) async -> [String] {
            var types: [String] = []
            for _ in 0..<count {
                guard let message = await next() else { break }
                types.append(message["type"] as? String ?? "?")
            }
            return types
        }
    }
}

/// Holds a probe's reading back until the test opens it.
private final class ReadingGate: Sendable {
    private struct State {
        var isOpen: Bool
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    init(open: Bool) {
        state = Mutex(State(isOpen: open))
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiter = continuation }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        state.withLock { state in
            state.isOpen = true
            return state.waiter.take()
        }?.resume()
    }
}
