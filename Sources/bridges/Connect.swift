import ArgumentParser
import BridgesClient
import Foundation
import QRCode

struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect an account interactively: fields, cookies, a QR code or a pairing code.",
        discussion: """
            Walks the bridge's login steps in the terminal. Ctrl-C cancels the login session on the \
            server before exiting. Exit codes: 0 connected, 1 the login failed or was cancelled, \
            3 no such bridge or it is not available, 4 bad token, 5 server unreachable, 130 interrupted.
            """)

    @Argument(help: "The bridge's ID, as `bridges list` shows it.") var bridge: String
    @Option(help: "The sign-in method, as `bridges flows <bridge>` lists them (asked when there are several).")
    var flow: String?
    @Option(help: "Reconnect this existing login instead of adding a new one.") var login: String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await runClient {
            let api = try client.client()
            let active = ActiveSession()
            let interrupt = await Interrupt { await active.cancel(using: api) }
            defer { interrupt.disarm() }

            let target = try await api.bridges.retrieve(bridge)
            if login == nil, target.status != .available {
                let reason = target.statusText ?? target.status.rawValue
                throw CLIFailure(
                    "\(target.displayName) is not available: \(reason)"
                        + (target.status == .connected ? " Reconnect with --login <loginID>." : ""), code: .notFound)
            }
            let flowID = try await chooseFlow(api)
            let display = DisplayState()
            let finished = try await api.bridges.runLogin(bridgeID: bridge, flowID: flowID, loginID: login) { session in
                active.set(bridgeID: session.bridgeID, sessionID: session.loginSessionID)
                display.stopSpinner()
                return try await answer(session, display: display)
            }
            display.stopSpinner()
            if interrupt.hasFired { throw CLIFailure("Cancelled.", code: .interrupted) }
            try report(finished)
        }
    }

    private func chooseFlow(_ api: BridgesClient) async throws -> String? {
        if let flow { return flow }
        let flows = try await api.bridges.loginFlows.list(bridgeID: bridge)
        guard flows.count > 1 else {
            if flows.isEmpty { throw CLIFailure("\(bridge) offers no sign-in method.") }
            return flows.first?.id
        }
        guard Terminal.isInteractive else {
            throw CLIFailure(
                "Multiple sign-in methods (\(flows.map(\.id).joined(separator: ", "))); pass --flow.", code: .usage)
        }
        Terminal.line("Sign-in methods for \(bridge):")
        for (index, flow) in flows.enumerated() {
            Terminal.line("  \(index + 1). \(flow.name ?? flow.id)\(flow.description.map { Terminal.dim(" — \($0)") } ?? "")")
        }
        while true {
            guard let text = Terminal.readLine(prompt: "Choose 1-\(flows.count): ") else {
                throw CLIFailure("No method chosen.", code: .usage)
            }
            if let number = Int(text.trimmingCharacters(in: .whitespaces)), flows.indices.contains(number - 1) {
                return flows[number - 1].id
            }
            if let match = flows.first(where: { $0.id == text }) { return match.id }
        }
    }

    private func answer(_ session: LoginSession, display: DisplayState) async throws -> LoginStepAnswer {
        switch session.currentStep {
        case .userInput(let step):
            display.reset()
            if let instructions = step.instructions { Terminal.line(instructions) }
            var values: [String: String] = [:]
            for field in step.fields {
                values[field.id] = try prompt(field)
            }
            return .userInput(values)

        case .cookies(let step):
            display.reset()
            if let instructions = step.instructions { Terminal.line(instructions) }
            Terminal.line("Open \(Terminal.bold(step.url)) in a browser and sign in.")
            if let agent = step.userAgent { Terminal.line(Terminal.dim("Use the browser identity: \(agent)")) }
            if let final = step.expectedFinalURLRegex { Terminal.line(Terminal.dim("You are done when the address matches \(final).")) }
            Terminal.line("Then copy these values from the browser's developer tools:")
            var values: [String: String] = [:]
            for field in step.fields {
                let kind =
                    switch field._type {
                    case .header: "request header"
                    case .localStorage: "localStorage entry"
                    case .cookie, nil: "cookie"
                    }
                values[field.id] = try ask("\(kind) \(field.name ?? field.id)", hidden: false, required: true)
            }
            return .cookies(values)

        case .displayAndWait(let step):
            var text = ""
            switch step.display {
            case .qr(let qr):
                do {
                    text = try QRCode(qr.data, errorCorrection: .low).terminalString()
                } catch {
                    text = "QR code payload (too long to draw): \(qr.data)"
                }
                text += "\n" + (step.instructions ?? "Scan this code with the app on your phone.")
            case .code(let code):
                text = "Your code: \(Terminal.bold(code.data))\n" + (step.instructions ?? "Enter it in the app on your phone.")
            case .emoji(let emoji):
                text = "Confirm that the app shows this emoji: \(emoji.imageURL)"
                if let instructions = step.instructions { text += "\n" + instructions }
            case .nothing:
                text = step.instructions ?? "Approve the sign-in in the app."
            }
            display.show(text)
            display.startSpinner("Waiting for the bridge…")
            return .wait

        case .complete, .none:
            return .wait
        }
    }

    private func prompt(_ field: Components.Schemas.LoginInputField) throws -> String {
        let label = field.label ?? field.id
        let secret = field._type == "password" || field.id.lowercased().contains("password")
        var suffix = ""
        if let initial = field.initialValue { suffix = " [\(initial)]" } else if let hint = field.placeholder {
            suffix = Terminal.dim(" (\(hint))")
        }
        let value = try ask(label + suffix, hidden: secret, required: !(field.optional ?? false) && field.initialValue == nil)
        return value.isEmpty ? field.initialValue ?? "" : value
    }

    private func ask(_ label: String, hidden: Bool, required: Bool) throws -> String {
        while true {
            guard let value = Terminal.readLine(prompt: "\(label): ", hidden: hidden) else {
                throw CLIFailure("Input ended before the login did.", code: .failed)
            }
            if !value.isEmpty || !required { return value }
            Terminal.line(Terminal.yellow("This field is required."))
        }
    }

    private func report(_ session: LoginSession) throws {
        switch session.status {
        case .complete:
            let account = session.account?.accountID ?? session.accountID
            let login = session.loginID ?? session.login?.loginID ?? "?"
            Terminal.line(Terminal.green("✔ ") + "Connected \(account.map { "\($0) " } ?? "")(login \(login)).")
        case .cancelled:
            throw CLIFailure("The login session was cancelled.")
        default:
            let error = session.error
            let message = error?.message ?? "The login failed."
            throw CLIFailure(error.map { "\(message) (\($0.code))" } ?? message)
        }
    }
}
