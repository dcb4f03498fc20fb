import BridgesCore
import Foundation
import QRCode

/// What the session page shows of a login session: the current step as a form, a code or a
/// wait, or how the session ended. Names are unique across nesting levels on purpose: the
/// template engine looks a missing (`nil`) name up in the enclosing objects.
struct StepView {
    /// Changes whenever what is shown changes (another step, a new code, the end), so the live
    /// script replaces the step only then and never wipes what someone is typing.
    var key: String
    /// Changes only with another step or the end; focus moves to the new heading only then.
    var stepMark: String
    var heading: String
    var announcement: String
    var bridgeName: String
    var base: String
    var csrf: String
    var instructions: InstructionsView?
    var inProgress: Bool
    var userInput: UserInputView?
    var cookies: CookiesView?
    var display: DisplayView?
    var complete: CompleteView?
    var failed: FailedView?
    var cancelled: RestartView?

    struct InstructionsView {
        var parts: [TextPart]
    }

    struct TextPart {
        var text: String
        var link: String?
    }

    struct UserInputView {
        var action: String
        var fields: [FieldView]
        var errorSummary: String?
    }

    struct FieldView {
        var htmlID: String
        var name: String
        var label: String
        var inputType: String
        var placeholder: String?
        var value: String?
        var required: Bool
        var autocomplete: String
        var inputMode: String?
        var fieldError: String?
    }

    struct CookiesView {
        var action: String
        var curlAction: String
        var url: String
        var userAgent: String?
        var finalURLHint: String?
        var boxes: [CookieBox]
        var curlText: String?
        var curlReport: String?
        var curlError: String?
        var errorSummary: String?
    }

    struct CookieBox {
        var htmlID: String
        var name: String
        var label: String
        var whereToFind: String
        var boxValue: String?
        var required: Bool
        var boxError: String?
    }

    struct DisplayView {
        var qr: QRView?
        var code: String?
        var emoji: String?
        var nothing: Bool
    }

    struct QRView {
        var svg: String
        var payload: String
    }

    struct CompleteView {
        var accounts: [String]
        var loginName: String
    }

    struct FailedView {
        var title: String
        var message: String
        var restart: RestartView
    }

    struct RestartView {
        var action: String
        var flowID: String
        var loginID: String?
    }
}

/// What a re-rendered step keeps from a refused or partly filled form.
struct StepFormState {
    /// Values to show again; never passwords or other secrets of a `user_input` step.
    var values: [String: String] = [:]
    /// Messages per field ID.
    var errors: [String: String] = [:]
    var summary: String?
    var curlText: String?
    var curlReport: String?
    var curlError: String?
}

extension StepView {
    init(_ view: LoginSessionView, csrf: String, form: StepFormState = StepFormState()) {
        let session = view.session
        let bridge = view.bridge
        let base = "/connect/\(PagePath.segment(bridge.id))/\(PagePath.segment(session.id))"
        self.base = base
        self.csrf = csrf
        bridgeName = bridge.displayName
        inProgress = !session.status.isTerminal
        let restart = RestartView(action: "/connect/\(PagePath.segment(bridge.id))", flowID: session.flowID, loginID: session.loginID)

        switch session.status {
        case .complete:
            let accounts = session.login?.accounts.map { AccountNames.name(of: $0.user, fallback: $0.accountID) } ?? []
            let loginName = session.login.map(AccountNames.name(of:)) ?? session.loginID ?? "your account"
            complete = CompleteView(accounts: accounts, loginName: loginName)
            heading = "Connected to \(bridge.displayName)"
            announcement = "Connected \(loginName) to \(bridge.displayName)."
            key = "complete"
            stepMark = "complete"
            return
        case .failed:
            let failure = Self.failure(session.error, bridge: bridge.displayName)
            failed = FailedView(title: failure.title, message: failure.message, restart: restart)
            heading = failure.title
            announcement = failure.title
            key = "failed"
            stepMark = "failed"
            return
        case .cancelled:
            cancelled = restart
            heading = "Sign-in cancelled"
            announcement = "The sign-in was cancelled."
            key = "cancelled"
            stepMark = "cancelled"
            return
        case .waitingForInput, .waitingForCookies, .waitingForDisplay:
            break
        }
        guard let current = session.currentStep else {
            heading = "Connecting to \(bridge.displayName)"
            announcement = heading
            key = "waiting"
            stepMark = "waiting"
            return
        }
        instructions = current.step.instructions.map { InstructionsView(parts: Self.linked($0)) }
        let action = "\(base)/steps/\(PagePath.segment(current.id))"
        stepMark = current.id
        key = current.id
        switch current.step.content {
        case .userInput(let fields, _):
            heading = "Sign in to \(bridge.displayName)"
            announcement = "\(bridge.displayName) asks for: \(fields.map { FieldTypes.label(for: $0) }.joined(separator: ", "))."
            userInput = UserInputView(
                action: action, fields: fields.map { FieldView($0, form: form) }, errorSummary: form.summary)
        case .cookies(let prompt):
            heading = "Sign in to \(bridge.displayName) in your browser"
            announcement = heading
            cookies = CookiesView(
                action: action, curlAction: "\(base)/curl", url: prompt.url, userAgent: prompt.userAgent,
                finalURLHint: prompt.expectedFinalURLRegex.map(Self.readableURLPattern),
                boxes: prompt.fields.map { CookieBox($0, form: form) }, curlText: form.curlText,
                curlReport: form.curlReport, curlError: form.curlError, errorSummary: form.summary)
        case .display(let display):
            switch display {
            case .qr(let data):
                heading = "Scan the QR code"
                announcement = "A new QR code is shown."
                key = "\(current.id)|\(data)"
                self.display = DisplayView(qr: QRView(svg: Self.svg(for: data), payload: data), nothing: false)
            case .code(let code):
                heading = "Enter this code on your phone"
                announcement = "Pairing code: \(code)."
                key = "\(current.id)|\(code)"
                self.display = DisplayView(code: code, nothing: false)
            case .emoji(let url):
                heading = "Confirm the emoji"
                announcement = "Compare the emoji with the one on your phone."
                key = "\(current.id)|\(url)"
                self.display = DisplayView(emoji: url, nothing: false)
            case .nothing:
                heading = "Waiting for approval"
                announcement = "Waiting for you to approve the sign-in on your other device."
                self.display = DisplayView(nothing: true)
            }
        case .complete:
            heading = "Finishing the connection"
            announcement = heading
        }
    }

    /// Plain words for each way a login can fail, and what to do next.
    static func failure(_ error: SessionError?, bridge: String) -> (title: String, message: String) {
        let message = error?.message ?? "The bridge ended the sign-in without saying why."
        switch error?.code {
        case "invalid_credentials", "M_FORBIDDEN":
            return ("Wrong username or password", "\(message) Check them and try again.")
        case "invalid_code":
            return ("That code did not work", "\(message) Start again to get a new code.")
        case "session_expired":
            return ("This sign-in expired", "It waited too long without any activity. Start again; it takes a moment.")
        case "server_restarted":
            return ("The server restarted", "Bridges restarted while this sign-in was in progress. Start again.")
        case "bridge_unreachable", "bridge_unavailable":
            return ("\(bridge) cannot be reached", "\(message) Try again in a moment.")
        default:
            return ("The sign-in did not work", message)
        }
    }

    /// Text with its web addresses as links, so a step that says "open this page" can be followed.
    static func linked(_ text: String) -> [TextPart] {
        var parts: [TextPart] = []
        var rest = Substring(text)
        while let start = rest.range(of: "https://") ?? rest.range(of: "http://") {
            if start.lowerBound > rest.startIndex { parts.append(TextPart(text: String(rest[..<start.lowerBound]))) }
            var end = rest[start.lowerBound...].firstIndex { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "\"" } ?? rest.endIndex
            // A sentence's closing punctuation is not part of the address.
            while end > start.upperBound, let last = rest[..<end].last, ".,;:!?)".contains(last) {
                end = rest.index(before: end)
            }
            let url = String(rest[start.lowerBound..<end])
            parts.append(TextPart(text: url, link: url))
            rest = rest[end...]
        }
        if !rest.isEmpty { parts.append(TextPart(text: String(rest))) }
        return parts
    }

    /// `^https://example\.com/done` as a person reads it: `https://example.com/done`.
    static func readableURLPattern(_ pattern: String) -> String {
        var text = pattern
        if text.hasPrefix("^") { text.removeFirst() }
        if text.hasSuffix("$") { text.removeLast() }
        return text.replacingOccurrences(of: "\\", with: "")
    }

    /// The QR code as an inline SVG element: drawn in vectors, so it stays sharp at any size.
    static func svg(for payload: String) -> String {
        guard let code = try? QRCode(payload, errorCorrection: .medium) else { return "" }
        let document = code.svg(moduleSize: 4, quietZone: 4)
        guard let start = document.range(of: "<svg") else { return "" }
        return "<svg aria-hidden=\"true\" focusable=\"false\"" + document[start.upperBound...]
    }
}

extension StepView.FieldView {
    init(_ field: InputField, form: StepFormState) {
        let kind = FieldTypes.kind(of: field)
        htmlID = "field-\(PagePath.htmlID(field.id))"
        name = "field.\(field.id)"
        label = FieldTypes.label(for: field)
        inputType = kind.inputType
        placeholder = field.placeholder
        // A secret is never sent back: a refused password is typed again.
        value = kind.isSecret ? nil : (form.values[field.id] ?? field.initialValue)
        required = !field.optional
        autocomplete = kind.autocomplete
        inputMode = kind.inputMode
        fieldError = form.errors[field.id]
    }
}

extension StepView.CookieBox {
    init(_ field: CookieField, form: StepFormState) {
        htmlID = "cookie-\(PagePath.htmlID(field.id))"
        name = "cookie.\(field.id)"
        let shown = field.name ?? field.id
        switch field.source {
        case .header:
            label = "Request header \(shown)"
            whereToFind = "In the developer tools' Network tab: a request of the signed-in page, Request Headers."
        case .localStorage:
            label = "Local storage entry \(shown)"
            whereToFind = "In the developer tools' Application (or Storage) tab: Local Storage of the signed-in site. A cURL command never holds it."
        case .cookie, nil:
            label = "Cookie \(shown)"
            whereToFind = "In the developer tools' Application (or Storage) tab: Cookies of the signed-in site."
        }
        boxValue = form.values[field.id]
        required = !field.optional
        boxError = form.errors[field.id]
    }
}

/// How an input field's free-form `type` becomes an HTML input.
enum FieldTypes {
    struct Kind {
        var inputType: String
        var autocomplete: String
        var inputMode: String?
        var isSecret: Bool
    }

    static func kind(of field: InputField) -> Kind {
        let type = (field.type ?? "").lowercased()
        if type.contains("password") || type.contains("token") || type.contains("secret") {
            return Kind(inputType: "password", autocomplete: type.contains("password") ? "current-password" : "off", isSecret: true)
        }
        switch type {
        case "email": return Kind(inputType: "email", autocomplete: "email", isSecret: false)
        case "phone_number", "phone", "tel": return Kind(inputType: "tel", autocomplete: "tel", isSecret: false)
        case "url": return Kind(inputType: "url", autocomplete: "url", isSecret: false)
        case "2fa_code", "code", "otp": return Kind(inputType: "text", autocomplete: "one-time-code", inputMode: "numeric", isSecret: false)
        case "username": return Kind(inputType: "text", autocomplete: "username", isSecret: false)
        default: return Kind(inputType: "text", autocomplete: "off", isSecret: false)
        }
    }

    /// The field's label, or its ID made readable when the bridge gave none.
    static func label(for field: InputField) -> String {
        if let label = field.label, !label.isEmpty { return label }
        let words = field.id.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}

/// How people and accounts are named on the page.
enum AccountNames {
    static func name(of user: User, fallback: String) -> String {
        for candidate in [user.fullName, user.username, user.email, user.phoneNumber] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        return fallback
    }

    static func name(of login: Login) -> String {
        login.user.map { name(of: $0, fallback: login.loginID) } ?? login.loginID
    }
}
