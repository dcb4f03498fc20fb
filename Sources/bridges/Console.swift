/// Where `connect` talks to the person at the keyboard: standard output, or standard error when
/// standard output carries JSON lines for a script.
struct Console: Sendable {
    let toStandardError: Bool

    func line(_ text: String = "") {
        if toStandardError { Terminal.error(text) } else { Terminal.line(text) }
    }

    /// Asks until a value is given (or, if not `required`, once); `nil` at the end of input.
    func ask(_ label: String, hidden: Bool, required: Bool) throws -> String {
        while true {
            guard let value = Terminal.readLine(prompt: "\(label): ", hidden: hidden, promptToStandardError: toStandardError)
            else {
                throw CLIFailure("Input ended before the login did.", code: .failed)
            }
            if !value.isEmpty || !required { return value }
            line(Terminal.yellow("This field is required."))
        }
    }
}
