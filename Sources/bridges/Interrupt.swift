import Foundation
import Synchronization
import UnixSignals

/// On Ctrl-C: put the terminal back, cancel the session on the server, and exit with 130.
final class Interrupt: Sendable {
    private let fired = Flag()
    private let listener: Task<Void, Never>

    /// Whether Ctrl-C was pressed; the command then reports the end of its session as an interruption.
    var hasFired: Bool { fired.isSet }

    final class Flag: Sendable {
        private let value = Atomic(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set() { value.store(true, ordering: .relaxed) }
    }

    /// Returns once SIGINT is trapped, so a Ctrl-C from then on cancels the session.
    init(onInterrupt: @escaping @Sendable () async -> Void) async {
        let signals = await UnixSignalsSequence(trapping: .sigint)
        let fired = fired
        listener = Task {
            for await _ in signals {
                fired.set()
                Terminal.restore()
                Terminal.write(Terminal.isInteractive ? "\r\u{1B}[K" : "")
                await onInterrupt()
                // A wait on the server ends with the cancel and the command reports it; a prompt
                // blocked on the keyboard never would, so exit from here after a moment.
                try? await Task.sleep(for: .milliseconds(500))
                Terminal.error("Cancelled.")
                exit(CLIFailure.Code.interrupted.rawValue)
            }
        }
    }

    func disarm() {
        listener.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
