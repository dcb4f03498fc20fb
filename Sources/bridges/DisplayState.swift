import Synchronization

/// The QR code or code on screen, and the spinner under it.
final class DisplayState: Sendable {
    private let state = Mutex<(block: Redrawable, spinner: Spinner?)>((Redrawable(), nil))

    func show(_ text: String) { state.withLock { $0.block.show(text) } }
    func reset() { state.withLock { $0.block.forget() } }

    func startSpinner(_ message: String) {
        state.withLock { $0.spinner = Spinner(message) }
    }

    func stopSpinner() {
        state.withLock { state in
            state.spinner?.stop()
            state.spinner = nil
        }
    }
}
