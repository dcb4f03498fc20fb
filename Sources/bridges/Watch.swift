import ArgumentParser
import BridgesClient
import Foundation

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print live events: logins, accounts, bridges and login sessions as they change.",
        discussion: """
            Follows the server's /v1/ws and prints one line per event (one JSON object per line \
            with --json), reconnecting after a dropped connection. Runs until Ctrl-C. Exit codes: \
            1 the server has no live events (Beeper Desktop), 2 bad usage, 4 bad token, \
            5 server unreachable, 130 interrupted.
            """)

    @Option(help: ArgumentHelp("Only this bridge's events (repeat for several; default: every bridge).", valueName: "id"))
    var bridge: [String] = []
    @Flag(help: "Print each event as one JSON object per line, for scripts.")
    var json = false
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await runClient {
            let api = try client.client()
            let interrupt = await Interrupt {}
            defer { interrupt.disarm() }
            do {
                for try await event in api.events(bridgeIDs: bridge.isEmpty ? ["*"] : bridge) {
                    if json { try printJSON(event, compact: true) } else { Terminal.line(Self.describe(event)) }
                }
            } catch let unavailable as EventsUnavailable {
                throw CLIFailure("\(unavailable.description) Only Bridges serves live bridge events.")
            } catch let error as BridgesClientError {
                throw CLIFailure(error)
            } catch {
                // The connection failed `maxRetries` times in a row before it subscribed.
                throw CLIFailure("Cannot reach the server's live events (\(error)).", code: .unreachable)
            }
        }
    }

    /// One line a person can read: when, which bridge, what happened, and the state it is in now.
    static func describe(_ event: EventMessage) -> String {
        let time = Terminal.dim(event.header.timestamp.formatted(.iso8601.time(includingFractionalSeconds: false)))
        let what: String
        switch event {
        case .bridge_updated(let event):
            what = "bridge \(event.data.displayName) \(colored(status: event.data.status.rawValue))"
        case .login_upserted(let event):
            what = "login \(event.data.loginID) \(colored(status: event.data.status.rawValue))"
        case .login_deleted(let event):
            what = "login \(event.data.loginID) removed"
        case .account_updated(let event):
            what = "account \(event.data.accountID) \(colored(status: event.data.status.rawValue))"
        case .loginSession_updated(let event):
            let step = event.data.currentStep.map { " \($0.kind)" } ?? ""
            what = "login session \(event.data.loginSessionID) \(event.data.status.rawValue)\(step)"
        }
        return "\(time) \(Terminal.bold(event.header.bridgeID)) \(what)"
    }
}

extension EventMessage {
    /// The bridge the event is about and when its change happened, which every kind carries.
    var header: (bridgeID: String, timestamp: Date) {
        switch self {
        case .bridge_updated(let event): (event.bridgeID, event.ts)
        case .login_upserted(let event): (event.bridgeID, event.ts)
        case .login_deleted(let event): (event.bridgeID, event.ts)
        case .account_updated(let event): (event.bridgeID, event.ts)
        case .loginSession_updated(let event): (event.bridgeID, event.ts)
        }
    }
}
