import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// The fake's HTTP listener. Starting and stopping run one after another, in the order they
/// were asked for, because faults restart and stop it from synchronous code while a test may be
/// awaiting `start()` or `stop()`; the port is kept so a restarted bridge has the same URL.
final class FakeListener: Sendable {
    /// What the server does around a shutdown: end every wait when it begins, accept waits again
    /// when it is over.
    struct Draining: Sendable {
        let begin: @Sendable () -> Void
        let end: @Sendable () -> Void
    }

    private struct Lifecycle {
        var chain: Task<Void, Never>?
        var running: (group: ServiceGroup, task: Task<Void, Never>)?
        var port: Int?
        /// Whether the user wants it listening, which a fault ending restores.
        var wanted = false
    }

    private let life = Mutex<Lifecycle>(Lifecycle())
    private let shutdownGrace: Duration

    init(shutdownGrace: Duration) {
        self.shutdownGrace = shutdownGrace
    }

    func start(responder: FakeResponder) async throws -> String {
        try await serially { try await self.listen(wanted: true, responder: responder) }
    }

    func stop(draining: Draining) async {
        _ = try? await serially {
            await self.unlisten(wanted: false, draining: draining)
            return ""
        }
    }

    /// Stops listening for a fault, keeping the user's wish to listen.
    func pause(draining: Draining) {
        background { await self.unlisten(wanted: nil, draining: draining) }
    }

    /// Returns once every start and stop asked for so far has happened.
    func settle() async {
        await life.withLock { $0.chain }?.value
    }

    /// Listens again after a fault, if the user still wants it.
    func resume(responder: FakeResponder) {
        background {
            if self.life.withLock({ $0.wanted }) { _ = try? await self.listen(wanted: nil, responder: responder) }
        }
    }

    private func serially(_ body: @escaping @Sendable () async throws -> String) async throws -> String {
        let task: Task<String, any Error> = life.withLock { life in
            let previous = life.chain
            let task = Task {
                await previous?.value
                return try await body()
            }
            life.chain = Task { _ = try? await task.value }
            return task
        }
        return try await task.value
    }

    private func background(_ body: @escaping @Sendable () async -> Void) {
        life.withLock { life in
            let previous = life.chain
            life.chain = Task {
                await previous?.value
                await body()
            }
        }
    }

    /// `wanted`: true from `start()`, nil when a fault ends (keeps the user's wish).
    private func listen(wanted: Bool?, responder: FakeResponder) async throws -> String {
        let (running, port) = life.withLock { life in
            if let wanted { life.wanted = wanted }
            return (life.running != nil, life.port)
        }
        if running, let port { return "http://127.0.0.1:\(port)" }
        let bound: Int
        do {
            bound = try await launch(port: port ?? 0, responder: responder)
        } catch where port != nil {
            // The old port was taken meanwhile: any port beats none.
            bound = try await launch(port: 0, responder: responder)
        }
        return "http://127.0.0.1:\(bound)"
    }

    private func launch(port: Int, responder: FakeResponder) async throws -> Int {
        let ready = Ready()
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionWatcher()])),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in ready.complete(.success(channel.localAddress?.port ?? 0)) }
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: app.logger))
        let task = Task {
            do {
                try await group.run()
                ready.complete(.failure(FakeListenerError.stoppedBeforeListening))
            } catch {
                ready.complete(.failure(error))
            }
        }
        do {
            let bound = try await ready.wait()
            life.withLock { life in
                life.running = (group, task)
                life.port = bound
            }
            return bound
        } catch {
            task.cancel()
            await task.value
            throw error
        }
    }

    /// `wanted`: false from `stop()`, nil for a fault (keeps the user's wish).
    private func unlisten(wanted: Bool?, draining: Draining) async {
        let running = life.withLock { life in
            if let wanted { life.wanted = wanted }
            let running = life.running
            life.running = nil
            return running
        }
        guard let (group, task) = running else { return }
        // A graceful shutdown closes the listener and the idle connections and lets requests
        // being answered finish; a request still running after the grace period is cancelled,
        // so a stuck handler cannot keep a test from ending.
        draining.begin()
        await group.triggerGracefulShutdown()
        let watchdog = Task {
            try await Task.sleep(for: shutdownGrace)
            task.cancel()
        }
        await task.value
        watchdog.cancel()
        draining.end()
    }
}

private enum FakeListenerError: Error { case stoppedBeforeListening }

/// One-shot result of starting the server, which `onServerRunning` reports from a callback.
private final class Ready: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, continuation: CheckedContinuation<Int, any Error>?)>(
        (nil, nil))

    func complete(_ result: Result<Int, any Error>) {
        let continuation: CheckedContinuation<Int, any Error>? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            let continuation = s.continuation
            s.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<Int, any Error>? = state.withLock { s in
                if let result = s.result { return result }
                s.continuation = continuation
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }
}
