import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the command-line tool needs from the terminal: colour when it is one, prompts, hidden
/// input, redrawable blocks and a spinner.
enum Terminal {
    static let isInteractive = isatty(STDOUT_FILENO) == 1
    static let colors = isInteractive && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func line(_ text: String = "") { write(text + "\n") }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func bold(_ text: String) -> String { styled(text, "1") }
    static func dim(_ text: String) -> String { styled(text, "2") }
    static func green(_ text: String) -> String { styled(text, "32") }
    static func yellow(_ text: String) -> String { styled(text, "33") }
    static func red(_ text: String) -> String { styled(text, "31") }

    private static func styled(_ text: String, _ code: String) -> String {
        colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    static func visibleWidth(_ text: String) -> Int {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression).count
    }

    /// Reads one line; `nil` at end of input. The prompt goes to standard error when standard
    /// output is for a program to read.
    static func readLine(prompt: String, hidden: Bool = false, promptToStandardError: Bool = false) -> String? {
        let show = promptToStandardError ? { FileHandle.standardError.write(Data($0.utf8)) } : write
        show(prompt)
        guard hidden, isatty(STDIN_FILENO) == 1 else { return Swift.readLine() }
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        echoOff.withLock { $0 = original }
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &original)
            echoOff.withLock { $0 = nil }
            show("\n")
        }
        return Swift.readLine()
    }

    /// The terminal settings to restore if the program is interrupted while echo is off.
    private static let echoOff = Mutex<termios?>(nil)

    static func restore() {
        if var original = echoOff.withLock({ $0 }) { tcsetattr(STDIN_FILENO, TCSANOW, &original) }
    }

    /// Aligns rows under a header, two spaces between columns. Widths count what is visible,
    /// not the colour codes a cell may carry.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0.indices.contains(column) ? visibleWidth($0[column]) : 0 }.max() ?? 0
        }
        func render(_ row: [String], style: (String) -> String = { $0 }) -> String {
            row.enumerated().map { index, cell in
                let gap = index == row.count - 1 ? 0 : max(0, widths[index] - visibleWidth(cell))
                return style(cell + String(repeating: " ", count: gap))
            }.joined(separator: "  ")
        }
        return ([render(header, style: bold)] + rows.map { render($0) }).joined(separator: "\n")
    }
}

/// A block of lines that can be replaced in place on a terminal (a QR code being refreshed).
struct Redrawable {
    private var lines = 0

    mutating func show(_ text: String) {
        if Terminal.isInteractive, lines > 0 {
            // Up to the block's first line, then clear to the end of the screen.
            Terminal.write("\u{1B}[\(lines)A\r\u{1B}[J")
        }
        Terminal.line(text)
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
    }

    mutating func forget() { lines = 0 }
}

/// A spinner with the time waited so far, on one line that it clears when stopped.
final class Spinner: Sendable {
    private let task: Task<Void, Never>

    init(_ message: String) {
        let started = ContinuousClock.now
        task = Task {
            let frames = Array("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
            var index = 0
            while !Task.isCancelled {
                let seconds = (ContinuousClock.now - started).components.seconds
                if Terminal.isInteractive {
                    Terminal.write("\r\(Terminal.dim(String(frames[index % frames.count]))) \(message) \(Terminal.dim("\(seconds)s"))\u{1B}[K")
                }
                index += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        if !Terminal.isInteractive { Terminal.line(message) }
    }

    func stop() {
        task.cancel()
        if Terminal.isInteractive { Terminal.write("\r\u{1B}[K") }
    }
}
