import BridgesClient

/// Answers a login's input and cookies steps: from `--field`, `--cookie` and `--curl` first, then
/// by asking, or, with `--no-input`, by failing with the name of what is missing.
struct StepAnswerer: Sendable {
    let fields: [String: String]
    let cookies: [String: String]
    let curl: CurlCommand?
    let mayAsk: Bool
    let console: Console

    init(_ options: AnswerOptions, console: Console) throws {
        fields = options.fields.byID
        cookies = options.cookies.byID
        curl = try options.curlCommand()
        mayAsk = !options.noInput
        self.console = console
    }

    func answer(_ step: Components.Schemas.UserInputLoginStep) throws -> [String: String] {
        var values: [String: String] = [:]
        var toAsk: [Components.Schemas.LoginInputField] = []
        for field in step.fields {
            if let given = fields[field.id] {
                values[field.id] = given
            } else if field.optional == true || field.initialValue != nil {
                // Asked for when someone is there to answer; otherwise the server's default.
                if mayAsk { toAsk.append(field) } else { values[field.id] = field.initialValue ?? "" }
            } else {
                guard mayAsk else {
                    throw Self.missing("The field '\(field.id)'\(field.label.map { " (\($0))" } ?? "")", "--field", field.id)
                }
                toAsk.append(field)
            }
        }
        if !toAsk.isEmpty, let instructions = step.instructions { console.line(instructions) }
        for field in toAsk {
            values[field.id] = try ask(field)
        }
        return values
    }

    func answer(_ step: Components.Schemas.CookiesLoginStep) throws -> [String: String] {
        var fromCurl: [String: String] = [:]
        if let curl {
            let (found, missing) = curl.values(for: step.fields)
            fromCurl = found
            let named = { (fields: [CookieField]) in fields.map(Self.describe).joined(separator: ", ") }
            if !found.isEmpty { console.line("From the cURL command: \(named(step.fields.filter { found[$0.id] != nil })).") }
            if !missing.isEmpty { console.line(Terminal.yellow("Not in the cURL command: \(named(missing)).")) }
        }
        var values: [String: String] = [:]
        var toAsk: [CookieField] = []
        for field in step.fields {
            if let given = cookies[field.id] ?? field.name.flatMap({ cookies[$0] }) ?? fromCurl[field.id] {
                values[field.id] = given
            } else {
                guard mayAsk else { throw Self.missing("The \(Self.describe(field))", "--cookie", field.id) }
                toAsk.append(field)
            }
        }
        guard !toAsk.isEmpty else { return values }
        if let instructions = step.instructions { console.line(instructions) }
        console.line("Open \(Terminal.bold(step.url)) in a browser and sign in.")
        if let agent = step.userAgent { console.line(Terminal.dim("Use the browser identity: \(agent)")) }
        if let final = step.expectedFinalURLRegex { console.line(Terminal.dim("You are done when the address matches \(final).")) }
        console.line("Then copy these values from the browser's developer tools:")
        for field in toAsk {
            // Cookies and tokens sign in as well as a password does: never echoed.
            values[field.id] = try console.ask(Self.describe(field), hidden: true, required: true)
        }
        return values
    }

    private func ask(_ field: Components.Schemas.LoginInputField) throws -> String {
        let label = field.label ?? field.id
        var suffix = ""
        if let initial = field.initialValue {
            suffix = " [\(initial)]"
        } else if let hint = field.placeholder {
            suffix = Terminal.dim(" (\(hint))")
        }
        let required = field.optional != true && field.initialValue == nil
        let value = try console.ask(label + suffix, hidden: Self.isSecret(field), required: required)
        return value.isEmpty ? field.initialValue ?? "" : value
    }

    private static func isSecret(_ field: Components.Schemas.LoginInputField) -> Bool {
        let kind = field._type?.lowercased() ?? ""
        let id = field.id.lowercased()
        return kind == "password" || kind == "token" || id.contains("password") || id.contains("token")
    }

    static func describe(_ field: CookieField) -> String {
        let kind =
            switch field._type {
            case .header: "request header"
            case .localStorage: "localStorage entry"
            case .cookie, nil: "cookie"
            }
        return "\(kind) \(field.name ?? field.id)"
    }

    private static func missing(_ what: String, _ option: String, _ id: String) -> CLIFailure {
        CLIFailure("\(what) needs a value and --no-input forbids asking: pass \(option) \(id)=<value>.", code: .usage)
    }
}
