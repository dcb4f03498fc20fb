/// Who a call acts for: a Matrix user ID such as `@alice:example.com`. Every per-user object
/// (logins of in-process networks, login sessions, events) belongs to one.
public struct UserID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts `@localpart:server` with a non-empty localpart of the characters Matrix allows
    /// (historical IDs included, so no uppercase check) and a non-empty server name.
    public init?(_ text: String) {
        guard text.hasPrefix("@"), let colon = text.firstIndex(of: ":") else { return nil }
        let localpart = text[text.index(after: text.startIndex)..<colon]
        let server = text[text.index(after: colon)...]
        guard !localpart.isEmpty, !server.isEmpty, text.utf8.count <= 255,
            localpart.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ":" }),
            server.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" })
        else { return nil }
        rawValue = text
    }

    /// For literals known to be valid.
    private init(valid: String) {
        rawValue = valid
    }

    /// The owner of a server whose configuration names none.
    public static let defaultOwner = UserID(valid: "@owner:localhost")

    /// The part after the first colon: the homeserver's name, with its port if it has one.
    public var serverName: String {
        guard let colon = rawValue.firstIndex(of: ":") else { return "" }
        return String(rawValue[rawValue.index(after: colon)...])
    }

    public var localpart: String {
        guard let colon = rawValue.firstIndex(of: ":") else { return "" }
        return String(rawValue[rawValue.index(after: rawValue.startIndex)..<colon])
    }

    public var description: String { rawValue }

    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = UserID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a Matrix user ID: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
