import BridgesCore
import Logging

/// bridgev2's shapes to the core's, with the field renames of the Desktop API.
enum MautrixMapping {
    static func step(_ step: Provisioning.Step) throws -> Step {
        let instructions = step.instructions.flatMap { $0.isEmpty ? nil : $0 }
        switch step.type {
        case "user_input":
            let fields = (step.userInput?.fields ?? []).map { field in
                InputField(
                    id: field.id, label: field.name, type: field.type,
                    placeholder: field.description.flatMap { $0.isEmpty ? nil : $0 }, initialValue: field.defaultValue)
            }
            return Step(
                id: step.stepID, instructions: instructions,
                content: .userInput(fields: fields, attachments: step.userInput?.attachments))
        case "cookies":
            guard let cookies = step.cookies else { throw malformed("a cookies step without its cookies") }
            let fields = (cookies.fields ?? []).map { field in
                // Any one source will do; the Desktop API shows one, so show the first it can express.
                let sources = field.sources ?? []
                let chosen = sources.first { cookieSource($0.type) != nil } ?? sources.first
                return CookieField(
                    id: field.id, name: chosen?.name, source: chosen.flatMap { cookieSource($0.type) },
                    optional: !(field.required ?? false))
            }
            return Step(
                id: step.stepID, instructions: instructions,
                content: .cookies(
                    CookiesPrompt(
                        url: cookies.url, fields: fields, expectedFinalURLRegex: cookies.waitForURLPattern,
                        extractJS: cookies.extractJS, userAgent: cookies.userAgent)))
        case "display_and_wait":
            guard let display = step.displayAndWait else { throw malformed("a display step without its display") }
            let content: Display
            switch display.type {
            case "qr": content = .qr(data: display.data ?? "")
            case "emoji": content = .emoji(imageURL: display.imageURL ?? "")
            case "code": content = .code(data: display.data ?? "")
            case "nothing": content = .nothing
            default:
                // A display this API has no variant for cannot be shown, and a login that cannot
                // be shown cannot go on: the client is told to pick another flow.
                throw unsupported("display type '\(display.type)'")
            }
            return Step(id: step.stepID, instructions: instructions, content: .display(content))
        case "complete":
            guard let loginID = step.complete?.userLoginID, !loginID.isEmpty else {
                throw malformed("a complete step without user_login_id")
            }
            return Step(id: step.stepID, instructions: instructions, content: .complete(loginID: loginID))
        case "webauthn", "client_http":
            // Known to bridgev2, but the Desktop API has no step for them.
            throw unsupported("step type '\(step.type)'")
        default:
            // A step type newer than this connector: nothing to show, so the same as above.
            throw unsupported("step type '\(step.type)'")
        }
    }

    /// Nil for a source the Desktop API cannot express. That is not an error: a field may offer
    /// several sources and `step` picks the first expressible one, or shows the field without a
    /// source, since the client submits the value by field ID either way.
    static func cookieSource(_ type: String) -> CookieSource? {
        switch type {
        case "cookie": .cookie
        case "local_storage": .localStorage
        case "request_header": .header
        case "request_body", "special": nil
        default: nil  // a source type newer than this connector, treated like the two above
        }
    }

    /// A login as `/v3/whoami` reports it, with its one account.
    static func login(_ entry: Provisioning.WhoamiLogin, bridgeID: String, network: String?, logger: Logger) -> Login {
        let state = entry.state
        let event = state?.stateEvent ?? entry.stateEvent ?? ""
        let (accountStatus, loginStatus) = status(stateEvent: event, userAction: state?.userAction, logger: logger)
        let profile = entry.profile
        let user = User(
            id: entry.id, fullName: profile?.name ?? entry.name, username: profile?.username, email: profile?.email,
            phoneNumber: profile?.phone, imgURL: profile?.avatar, isSelf: true)
        let statusText = [state?.message, state?.error, state?.reason].compactMap { $0 }.first { !$0.isEmpty }
        let account = Account(
            accountID: "\(bridgeID)_\(entry.id)", status: accountStatus, statusText: statusText, user: user, network: network)
        return Login(
            loginID: entry.id, status: loginStatus, statusText: statusText, user: user, removeScopes: [.allDevices],
            accounts: [account])
    }

    /// bridgev2 state to Desktop statuses; rows in priority order, the first that matches wins
    /// (`mautrix-provisioning.md`, section 5).
    ///
    /// Unknown values are not errors: bridgev2 adds states and user actions over time, and one
    /// login's new state must not break the listing of every login. An unknown user action is
    /// ignored and an unknown state reads as "connecting, status unknown", as if the bridge had
    /// said nothing yet; both are logged so the mapping can be extended.
    static func status(stateEvent: String, userAction: String?, logger: Logger) -> (AccountStatus, LoginStatus) {
        switch userAction {
        case "RELOGIN": return (.reconnectRequired, .needsLogin)
        case "OPEN_NATIVE", "RESTART":
            if stateEvent == "BAD_CREDENTIALS" { return (.reconnectRequired, .needsLogin) }
            return (.attentionRequired, stateEvent == "CONNECTED" ? .connected : .unknown)
        case nil:
            break
        case let action?:
            logger.notice("Unknown bridge user_action, ignored", metadata: ["user_action": "\(action)"])
        }
        switch stateEvent {
        case "BAD_CREDENTIALS": return (.reconnectRequired, .needsLogin)
        case "UNKNOWN_ERROR": return (.attentionRequired, .unknown)
        case "TRANSIENT_DISCONNECT": return (.disconnected, .connecting)
        case "CONNECTING", "STARTING": return (.connecting, .connecting)
        case "BACKFILLING": return (.backfilling, .connected)
        case "CONNECTED": return (.connected, .connected)
        case "LOGGED_OUT": return (.connectionRequired, .loggedOut)
        case "BRIDGE_UNREACHABLE": return (.disconnected, .unknown)
        // Nothing sent yet, or a bridge-wide state that says nothing about this login.
        case "", "UNCONFIGURED", "RUNNING": return (.connecting, .unknown)
        default:
            logger.notice("Unknown bridge state_event, shown as connecting", metadata: ["state_event": "\(stateEvent)"])
            return (.connecting, .unknown)
        }
    }

    private static func malformed(_ what: String) -> LoginFailed {
        LoginFailed(code: "invalid_bridge_response", message: "The bridge sent \(what).")
    }

    private static func unsupported(_ what: String) -> LoginFailed {
        LoginFailed(
            code: "unsupported_login_step",
            message: "The bridge asked for a \(what), which this API cannot show. Try another login flow.")
    }
}
