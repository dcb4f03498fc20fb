/// The kinds of login step; the raw values are the wire names.
public enum StepKind: String, Sendable, Codable, CaseIterable {
    case userInput = "user_input"
    case cookies
    case displayAndWait = "display_and_wait"
    case complete
}

public struct InputField: Sendable, Hashable {
    public var id: String
    public var label: String?
    /// A free-form hint: `username`, `password`, `email`, `2fa_code`, ...
    public var type: String?
    public var placeholder: String?
    public var initialValue: String?
    public var optional: Bool
    /// Checked by the core before the value reaches a connector; never sent on the wire.
    public var pattern: String?

    public init(
        id: String, label: String? = nil, type: String? = nil, placeholder: String? = nil, initialValue: String? = nil,
        optional: Bool = false, pattern: String? = nil
    ) {
        self.id = id
        self.label = label
        self.type = type
        self.placeholder = placeholder
        self.initialValue = initialValue
        self.optional = optional
        self.pattern = pattern
    }
}

public enum CookieSource: String, Sendable, Hashable, Codable {
    case cookie
    case header
    case localStorage = "local_storage"
}

public struct CookieField: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var source: CookieSource?
    public var optional: Bool

    public init(id: String, name: String? = nil, source: CookieSource? = nil, optional: Bool = false) {
        self.id = id
        self.name = name
        self.source = source
        self.optional = optional
    }
}

public struct CookiesPrompt: Sendable, Hashable {
    public var url: String
    public var fields: [CookieField]
    public var expectedFinalURLRegex: String?
    public var extractJS: String?
    public var userAgent: String?

    public init(
        url: String, fields: [CookieField], expectedFinalURLRegex: String? = nil, extractJS: String? = nil,
        userAgent: String? = nil
    ) {
        self.url = url
        self.fields = fields
        self.expectedFinalURLRegex = expectedFinalURLRegex
        self.extractJS = extractJS
        self.userAgent = userAgent
    }
}

public enum Display: Sendable, Hashable {
    case qr(data: String)
    case emoji(imageURL: String)
    case code(data: String)
    case nothing
}

/// One step of a login, as a connector produces it. The core gives each step it shows a
/// session-unique wire ID, so `id` here is the connector's own (it may repeat, as bridgev2's do).
public struct Step: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case userInput(fields: [InputField], attachments: [JSONValue]?)
        case cookies(CookiesPrompt)
        case display(Display)
        /// The login `loginID` now exists (or was re-authenticated) on the connector.
        case complete(loginID: String)
    }

    public var id: String
    public var instructions: String?
    public var content: Content

    public init(id: String, instructions: String? = nil, content: Content) {
        self.id = id
        self.instructions = instructions
        self.content = content
    }

    public var kind: StepKind {
        switch content {
        case .userInput: .userInput
        case .cookies: .cookies
        case .display: .displayAndWait
        case .complete: .complete
        }
    }
}

/// What a client sends for a step. `fields` can hold secrets: it is never stored or logged.
public struct StepSubmission: Sendable {
    public var type: StepKind
    public var fields: [String: String]
    public var lastURL: String?
    public var source: String?

    public init(type: StepKind, fields: [String: String] = [:], lastURL: String? = nil, source: String? = nil) {
        self.type = type
        self.fields = fields
        self.lastURL = lastURL
        self.source = source
    }
}

extension StepSubmission: CustomStringConvertible, CustomDebugStringConvertible {
    /// Field values never reach a log line, even through string interpolation.
    public var description: String {
        "StepSubmission(type: \(type.rawValue), fields: \(fields.keys.sorted()), lastURL: \(lastURL != nil), source: \(source ?? "-"))"
    }
    public var debugDescription: String { description }
}
