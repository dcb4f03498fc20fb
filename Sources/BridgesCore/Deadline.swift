import Synchronization

/// The operation's result, or `nil` once `timeout` passes on `clock` first. The operation is not
/// waited for after that: it finishes in the background (a slow bridge's answer still warms caches).
func firstOf<Value: Sendable>(
    timeout: Duration, clock: AnyClock, _ operation: @escaping @Sendable () async -> Value
) async -> Value? {
    let pending = ResumeOnce<Value?>()
    return await withCheckedContinuation { continuation in
        pending.set(continuation)
        let timer = Task {
            try? await clock.sleep(for: timeout)
            pending.resume(returning: nil)
        }
        Task {
            pending.resume(returning: await operation())
            timer.cancel()
        }
    }
}

/// A continuation that the first of several racers resumes; the others find it gone.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(returning value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
