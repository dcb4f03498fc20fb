import BridgesCore
import Foundation

/// `demo-password`: username and password; a username containing `2fa` asks for a code
/// (`123456`), and the password `wrong-password` fails the login.
struct PasswordNetwork: DemoNetwork {
    static let correctCode = "123456"

    let descriptor = BridgeDescriptor(
        id: "demo-password", displayName: "Demo Password", type: "demo-password", network: "Demo Password",
        provider: .platformSDK, supportsMultipleAccounts: true)
    let flows = [LoginFlow(id: "password", name: "Password", description: "Sign in with a username and password")]
    let capabilities = typicalCapabilities

    func start(flowID: String, login: DemoLoginContext) async throws -> StartedLogin {
        let credentials = Step(
            id: "demo.password.credentials",
            instructions: "Any username works. A username containing '2fa' asks for a code; the password 'wrong-password' is refused.",
            content: .userInput(
                fields: [
                    InputField(id: "username", label: "Username", type: "username", placeholder: "alice"),
                    InputField(id: "password", label: "Password", type: "password"),
                ], attachments: nil))
        let codeStep = Step(
            id: "demo.password.2fa",
            instructions: "Enter the code from your authenticator app (the demo's code is \(Self.correctCode)).",
            content: .userInput(
                fields: [
                    InputField(id: "code", label: "Two-factor code", type: "2fa_code", placeholder: "123456", pattern: "^[0-9]{6}$")
                ], attachments: nil))
        let username = UsernameBox()
        let process = ScriptedProcess { submission, step in
            switch step.id {
            case credentials.id:
                let name = submission.fields["username", default: ""].trimmingCharacters(in: .whitespaces)
                guard submission.fields["password"] != "wrong-password" else {
                    throw LoginFailed(code: "invalid_credentials", message: "The username or password is incorrect.")
                }
                if name.lowercased().contains("2fa") {
                    await username.set(name)
                    return codeStep
                }
                return try await login.complete(loginID: name, user: User(id: name, username: name, isSelf: true))
            default:
                guard submission.fields["code"] == Self.correctCode else {
                    throw LoginFailed(code: "invalid_code", message: "The two-factor code is incorrect.")
                }
                let name = await username.value
                return try await login.complete(loginID: name, user: User(id: name, username: name, isSelf: true))
            }
        }
        return StartedLogin(process: process, firstStep: credentials)
    }
}

/// Holds what one step of a scripted process learned for a later step.
actor UsernameBox {
    private(set) var value = ""
    func set(_ value: String) { self.value = value }
}

/// `demo-workspace`: one login that holds several accounts, as a Slack login holds workspaces.
struct WorkspaceNetwork: DemoNetwork {
    static let workspaces = ["acme", "globex", "initech"]

    let descriptor = BridgeDescriptor(
        id: "demo-workspace", displayName: "Demo Workspace", type: "demo-workspace", network: "Demo Workspace",
        provider: .platformSDK, supportsMultipleAccounts: true)
    let flows = [
        LoginFlow(id: "email", name: "Email", description: "Sign in with an email address and password")
    ]
    let capabilities = typicalCapabilities

    func start(flowID: String, login: DemoLoginContext) async throws -> StartedLogin {
        let first = Step(
            id: "demo.workspace.email",
            instructions: "Signing in adds every workspace of this user: \(Self.workspaces.joined(separator: ", ")).",
            content: .userInput(
                fields: [
                    InputField(id: "email", label: "Email", type: "email", placeholder: "alice@example.com", pattern: "^[^@\\s]+@[^@\\s]+$"),
                    InputField(id: "password", label: "Password", type: "password"),
                ], attachments: nil))
        let process = ScriptedProcess { submission, _ in
            let email = submission.fields["email", default: ""].trimmingCharacters(in: .whitespaces)
            guard submission.fields["password"] != "wrong-password" else {
                throw LoginFailed(code: "invalid_credentials", message: "The email or password is incorrect.")
            }
            let local = DemoLoginContext.slug(String(email.prefix { $0 != "@" }))
            let user = User(id: email, fullName: local.capitalized, email: email, isSelf: true)
            return try await login.complete(
                loginID: email, user: user,
                accounts: Self.workspaces.map { team in
                    ("\(team)-\(local)", User(id: "\(team)-\(local)", fullName: local.capitalized, email: email, isSelf: true))
                })
        }
        return StartedLogin(process: process, firstStep: first)
    }
}

/// `demo-cookies`: sign in on a page this server serves, then hand over a cookie, a header and
/// a localStorage value, as a browser-based login does.
struct CookiesNetwork: DemoNetwork {
    let descriptor = BridgeDescriptor(
        id: "demo-cookies", displayName: "Demo Cookies", type: "demo-cookies", network: "Demo Cookies",
        provider: .platformSDK, supportsMultipleAccounts: true)
    let flows = [LoginFlow(id: "cookies", name: "Browser", description: "Sign in in a browser and share its cookies")]
    let capabilities = typicalCapabilities

    func start(flowID: String, login: DemoLoginContext) async throws -> StartedLogin {
        let environment = login.environment
        let finalURL = environment.url(DemoPages.cookiesSignedInPath)
        let step = Step(
            id: "demo.cookies.browser",
            instructions: "Open the sign-in page, sign in, then copy the demo_session cookie, the X-Demo-CSRF header value and the demo_token localStorage entry that the page shows.",
            content: .cookies(
                CookiesPrompt(
                    url: environment.url(DemoPages.cookiesSignInPath),
                    fields: [
                        CookieField(id: "session", name: "demo_session", source: .cookie),
                        CookieField(id: "csrf", name: "X-Demo-CSRF", source: .header),
                        CookieField(id: "token", name: "demo_token", source: .localStorage),
                    ],
                    expectedFinalURLRegex: "^" + NSRegularExpression.escapedPattern(for: finalURL),
                    extractJS: "JSON.stringify({token: localStorage.getItem('demo_token')})")))
        let process = ScriptedProcess { submission, _ in
            let session = submission.fields["session", default: ""]
            let name = String(session.prefix { $0 != "." })
            let user = User(id: name.isEmpty ? "cookie-user" : name, username: name, isSelf: true)
            return try await login.complete(loginID: user.id, user: user)
        }
        return StartedLogin(process: process, firstStep: step)
    }
}

/// `demo-messenger`: a phone-paired network with one account, like WhatsApp or Signal. Its flows
/// show each display type: a QR code that refreshes, a pairing code, an emoji, and nothing.
struct MessengerNetwork: DemoNetwork {
    let descriptor = BridgeDescriptor(
        id: "demo-messenger", displayName: "Demo Messenger", type: "demo-messenger", network: "Demo Messenger",
        provider: .platformSDK, supportsMultipleAccounts: false)
    let flows = [
        LoginFlow(id: "qr", name: "QR code", description: "Scan a QR code with the phone app"),
        LoginFlow(id: "pairing-code", name: "Pairing code", description: "Enter a code on the phone app"),
        LoginFlow(id: "emoji", name: "Emoji", description: "Confirm the emoji shown on the phone app"),
        LoginFlow(id: "nothing", name: "Approve on phone", description: "Approve the sign-in on the phone app"),
    ]
    let capabilities = typicalCapabilities

    func start(flowID: String, login: DemoLoginContext) async throws -> StartedLogin {
        let environment = login.environment
        let approvals = environment.approvals
        let tokens = TokenBox()
        let user = User(id: "+15550100", fullName: "Demo Phone", phoneNumber: "+15550100", isSelf: true)
        let finish: @Sendable () async throws -> Step = {
            await approvals.retire(await tokens.all)
            return try await login.complete(loginID: "phone-15550100", user: user)
        }
        let cancel: @Sendable () async -> Void = { await approvals.retire(await tokens.all) }

        switch flowID {
        case "qr":
            let qrStep: @Sendable () async -> Step = {
                let token = await approvals.issue()
                await tokens.push(token)
                let url = environment.url("/demo/scan/\(token)")
                return Step(
                    id: "demo.messenger.qr",
                    instructions: "Scan the code with the Demo Messenger app. (Demo: opening \(url) scans it.)",
                    content: .display(.qr(data: url)))
            }
            let process = ScriptedProcess(
                onSubmit: { _, step in step },
                onWait: { _ in
                    // The current and the previous payload both count: a phone may have scanned
                    // the old one just as it was replaced.
                    if try await approvals.waitForApproval(of: await tokens.recent(2), timeout: environment.options.qrRefresh) {
                        return try await finish()
                    }
                    await approvals.retire(await tokens.dropOldest(keeping: 1))
                    return await qrStep()
                }, onCancel: cancel)
            return StartedLogin(process: process, firstStep: await qrStep())

        case "pairing-code":
            let phone = Step(
                id: "demo.messenger.phone",
                instructions: "Enter the phone number of the Demo Messenger account.",
                content: .userInput(
                    fields: [
                        InputField(
                            id: "phone_number", label: "Phone number", type: "phone_number", placeholder: "+15550100",
                            pattern: "^\\+[0-9]{6,15}$")
                    ], attachments: nil))
            let process = ScriptedProcess(
                onSubmit: { _, _ in
                    let token = await approvals.issue()
                    await tokens.push(token)
                    return Step(
                        id: "demo.messenger.code",
                        instructions: "Enter this code in the app under Linked devices → Link with phone number. (Demo: open \(environment.approvalURL(token)) to confirm.)",
                        content: .display(.code(data: Self.pairingCode(from: token))))
                },
                onWait: { _ in try await Self.waitForApproval(tokens: tokens, approvals: approvals, then: finish) },
                onCancel: cancel)
            return StartedLogin(process: process, firstStep: phone)

        case "emoji":
            let token = await approvals.issue()
            await tokens.push(token)
            let step = Step(
                id: "demo.messenger.emoji",
                instructions: "Confirm that the app shows this emoji. (Demo: open \(environment.approvalURL(token)) to confirm.)",
                content: .display(.emoji(imageURL: environment.url("/demo/emoji/\(token).svg"))))
            let process = ScriptedProcess(
                onSubmit: { _, step in step },
                onWait: { _ in try await Self.waitForApproval(tokens: tokens, approvals: approvals, then: finish) },
                onCancel: cancel)
            return StartedLogin(process: process, firstStep: step)

        default:
            let token = await approvals.issue()
            await tokens.push(token)
            let delay = environment.options.nothingDelay
            let step = Step(
                id: "demo.messenger.approve",
                instructions: "Approve the sign-in on your phone. (Demo: it approves itself after \(delay.components.seconds) seconds, or open \(environment.approvalURL(token)).)",
                content: .display(.nothing))
            let process = ScriptedProcess(
                onSubmit: { _, step in step },
                onWait: { _ in
                    _ = try await approvals.waitForApproval(of: [token], timeout: delay)
                    return try await finish()
                }, onCancel: cancel)
            return StartedLogin(process: process, firstStep: step)
        }
    }

    /// Waits for the confirmation link in bounded rounds, so the wait holds no timer forever.
    private static func waitForApproval(
        tokens: TokenBox, approvals: DemoApprovals, then finish: @Sendable () async throws -> Step
    ) async throws -> Step {
        while true {
            if try await approvals.waitForApproval(of: await tokens.recent(1), timeout: .seconds(3600)) {
                return try await finish()
            }
        }
    }

    /// An eight-character code in the style of WhatsApp's phone pairing.
    static func pairingCode(from token: String) -> String {
        let letters = Array(token.uppercased().filter { $0.isLetter || $0.isNumber }.prefix(8))
        let padded = letters + Array(repeating: Character("X"), count: max(0, 8 - letters.count))
        return String(padded[0..<4]) + "-" + String(padded[4..<8])
    }
}

/// The approval tokens one process has issued, newest last.
actor TokenBox {
    private var tokens: [String] = []
    var all: [String] { tokens }
    func push(_ token: String) { tokens.append(token) }
    func recent(_ count: Int) -> Set<String> { Set(tokens.suffix(count)) }
    func dropOldest(keeping count: Int) -> [String] {
        guard tokens.count > count else { return [] }
        let dropped = Array(tokens.prefix(tokens.count - count))
        tokens.removeFirst(dropped.count)
        return dropped
    }
}
