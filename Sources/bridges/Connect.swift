import ArgumentParser
import BridgesClient
import Foundation

struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect an account: fields, cookies, a QR code or a pairing code.",
        discussion: """
            Walks the bridge's login steps in the terminal, asking for what --field, --cookie and \
            --curl do not give. With --json, standard output carries the login session as one JSON \
            object per line at every change, and everything meant for a person goes to standard \
            error. Ctrl-C cancels the login session on the server before exiting. Exit codes: \
            0 connected, 1 the login failed or was cancelled, 2 bad usage or a value missing with \
            --no-input, 3 no such bridge or it is not available, 4 bad token, 5 server \
            unreachable, 130 interrupted.
            """)

    @Argument(help: "The bridge's ID, as `bridges list` shows it.") var bridge: String
    @Option(help: "The sign-in method, as `bridges flows <bridge>` lists them (asked when there are several).")
    var flow: String?
    @Option(help: "Reconnect this existing login instead of adding a new one.") var login: String?
    @OptionGroup var answers: AnswerOptions
    @Flag(help: "Print the login session as one JSON object per line at every change, for scripts.")
    var json = false
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await runClient {
            let console = Console(toStandardError: json)
            let answerer = try StepAnswerer(answers, console: console)
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
            let flowID = try await chooseFlow(api, console: console)
            let display = DisplayState()
            let finished: LoginSession
            do {
                finished = try await api.bridges.runLogin(bridgeID: bridge, flowID: flowID, loginID: login) { session in
                    active.set(bridgeID: session.bridgeID, sessionID: session.loginSessionID)
                    display.stopSpinner()
                    if json { try printJSON(session, compact: true) }
                    return try answer(session, answerer: answerer, display: display)
                }
            } catch {
                // A step this tool could not answer would leave the session waiting on the server.
                await active.cancel(using: api)
                throw error
            }
            display.stopSpinner()
            if json { try printJSON(finished, compact: true) }
            if interrupt.hasFired { throw CLIFailure("Cancelled.", code: .interrupted) }
            try report(finished, console: console)
        }
    }

    private func chooseFlow(_ api: BridgesClient, console: Console) async throws -> String? {
        if let flow { return flow }
        let flows = try await api.bridges.loginFlows.list(bridgeID: bridge)
        guard flows.count > 1 else {
            if flows.isEmpty { throw CLIFailure("\(bridge) offers no sign-in method.") }
            return flows.first?.id
        }
        guard Terminal.isInteractive, !answers.noInput else {
            throw CLIFailure(
                "Multiple sign-in methods (\(flows.map(\.id).joined(separator: ", "))); pass --flow.", code: .usage)
        }
        console.line("Sign-in methods for \(bridge):")
        for (index, flow) in flows.enumerated() {
            console.line("  \(index + 1). \(flow.name ?? flow.id)\(flow.description.map { Terminal.dim(" — \($0)") } ?? "")")
        }
        while true {
            guard let text = Terminal.readLine(prompt: "Choose 1-\(flows.count): ", promptToStandardError: json) else {
                throw CLIFailure("No method chosen.", code: .usage)
            }
            if let number = Int(text.trimmingCharacters(in: .whitespaces)), flows.indices.contains(number - 1) {
                return flows[number - 1].id
            }
            if let match = flows.first(where: { $0.id == text }) { return match.id }
        }
    }

    private func answer(_ session: LoginSession, answerer: StepAnswerer, display: DisplayState) throws -> LoginStepAnswer {
        switch session.currentStep {
        case .userInput(let step):
            display.reset()
            return .userInput(try answerer.answer(step))
        case .cookies(let step):
            display.reset()
            return .cookies(try answerer.answer(step))
        case .displayAndWait(let step):
            // With --json the script shows the code itself, from the line just printed.
            if !json {
                display.show(DisplayState.text(for: step))
                display.startSpinner("Waiting for the bridge…")
            }
            return .wait
        case .complete, .none:
            return .wait
        }
    }

    private func report(_ session: LoginSession, console: Console) throws {
        switch session.status {
        case .complete:
            let account = session.account?.accountID ?? session.accountID
            let login = session.loginID ?? session.login?.loginID ?? "?"
            console.line(Terminal.green("✔ ") + "Connected \(account.map { "\($0) " } ?? "")(login \(login)).")
        case .cancelled:
            throw CLIFailure("The login session was cancelled.")
        default:
            let error = session.error
            let message = error?.message ?? "The login failed."
            throw CLIFailure(error.map { "\(message) (\($0.code))" } ?? message)
        }
    }
}
