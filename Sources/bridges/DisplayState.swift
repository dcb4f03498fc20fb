import BridgesClient
import QRCode
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

    /// What a display step shows in the terminal: the QR code drawn, or the code or emoji to confirm.
    static func text(for step: Components.Schemas.DisplayAndWaitLoginStep) -> String {
        switch step.display {
        case .qr(let qr):
            let code: String
            do {
                code = try QRCode(qr.data, errorCorrection: .low).terminalString()
            } catch {
                code = "QR code payload (too long to draw): \(qr.data)"
            }
            return code + "\n" + (step.instructions ?? "Scan this code with the app on your phone.")
        case .code(let code):
            return "Your code: \(Terminal.bold(code.data))\n" + (step.instructions ?? "Enter it in the app on your phone.")
        case .emoji(let emoji):
            return "Confirm that the app shows this emoji: \(emoji.imageURL)" + (step.instructions.map { "\n" + $0 } ?? "")
        case .nothing:
            return step.instructions ?? "Approve the sign-in in the app."
        }
    }
}
