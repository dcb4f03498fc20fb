import BridgesCore

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
            default: throw unsupported("display type '\(display.type)'")
            }
            return Step(id: step.stepID, instructions: instructions, content: .display(content))
        case "complete":
            guard let loginID = step.complete?.userLoginID, !loginID.isEmpty else {
                throw malformed("a complete step without user_login_id")
            }
            return Step(id: step.stepID, instructions: instructions, content: .complete(loginID: loginID))
        default:
            throw unsupported("step type '\(step.type)'")
        }
    }

    static func cookieSource(_ type: String) -> CookieSource? {
        switch type {
        case "cookie": .cookie
        case "local_storage": .localStorage
        case "request_header": .header
        default: nil
        }
    }

    /// A login as `/v3/whoami` reports it, with its one account.
    static func login(_ entry: Provisioning.WhoamiLogin, bridgeID: String, network: String?) -> Login {
        let state = entry.state
        let event = state?.stateEvent ?? entry.stateEvent ?? ""
        let (accountStatus, loginStatus) = status(stateEvent: event, userAction: state?.userAction)
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

    /// bridgev2 state to Desktop statuses; rows in priority order, the first that matches wins.
    static func status(stateEvent: String, userAction: String?) -> (AccountStatus, LoginStatus) {
        if userAction == "RELOGIN" || stateEvent == "BAD_CREDENTIALS" { return (.reconnectRequired, .needsLogin) }
        if userAction == "OPEN_NATIVE" || userAction == "RESTART" {
            return (.attentionRequired, stateEvent == "CONNECTED" ? .connected : .unknown)
        }
        switch stateEvent {
        case "UNKNOWN_ERROR": return (.attentionRequired, .unknown)
        case "TRANSIENT_DISCONNECT": return (.disconnected, .connecting)
        case "CONNECTING", "STARTING": return (.connecting, .connecting)
        case "BACKFILLING": return (.backfilling, .connected)
        case "CONNECTED": return (.connected, .connected)
        case "LOGGED_OUT": return (.connectionRequired, .loggedOut)
        case "BRIDGE_UNREACHABLE": return (.disconnected, .unknown)
        default: return (.connecting, .unknown)
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
