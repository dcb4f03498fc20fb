import BridgesCore

/// Who may sign in, as `users.allow` lists them: glob patterns over whole Matrix user IDs, `*`
/// for any run of characters (none too) and `?` for exactly one, everything else itself,
/// case-sensitive as user IDs are. `@*:example.com` is everyone on example.com.
public struct UserAllowList: Sendable, Hashable {
    public let patterns: [String]

    /// A pattern that can never match, or matches by accident, is a mistake in the settings.
    public struct InvalidPattern: Error, Sendable, Hashable, CustomStringConvertible {
        public let pattern: String
        public var description: String {
            "'\(pattern)' is not a user ID pattern: write a whole Matrix user ID such as @alice:example.com, with * and ? as wildcards (@*:example.com)."
        }
    }

    /// - Throws: ``InvalidPattern`` for an empty pattern, one with whitespace, or one that does
    ///   not start with `@` or a wildcard (so cannot be a user ID).
    public init(_ patterns: [String]) throws(InvalidPattern) {
        for pattern in patterns {
            guard let first = pattern.first, first == "@" || first == "*" || first == "?",
                !pattern.contains(where: \.isWhitespace)
            else { throw InvalidPattern(pattern: pattern) }
        }
        self.patterns = patterns
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether any pattern matches the whole ID.
    public func allows(_ user: UserID) -> Bool {
        let text = Array(user.rawValue.unicodeScalars)
        return patterns.contains { Self.matches(Array($0.unicodeScalars), text) }
    }

    /// Greedy matching that, on a mismatch, lets the last `*` take one more character: linear in
    /// practice, and never exponential however many stars a pattern has.
    static func matches(_ pattern: [Unicode.Scalar], _ text: [Unicode.Scalar]) -> Bool {
        var p = 0
        var t = 0
        var lastStar: Int?
        var starText = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "*" {
                lastStar = p
                starText = t
                p += 1
            } else if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if let star = lastStar {
                p = star + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

/// Who may sign in once the homeserver has confirmed who they are: the server's rule, from
/// `users.allow`.
public enum SignInAdmission: Sendable, Hashable {
    /// `users.allow` is not set: every user the homeserver confirms. ``MatrixSignInClient`` has
    /// already refused guests and users of other server names, so that is the homeserver's own
    /// users, whose whoami answer is the proof.
    case homeserverUsers
    /// `users.allow` is set: only the IDs it matches. An empty list admits nobody, which turns
    /// sign-in off without unsetting the homeserver.
    case allowList(UserAllowList)

    /// The rule `users.allow` says: `nil` when it is not set.
    public init(allow patterns: [String]?) throws(UserAllowList.InvalidPattern) {
        guard let patterns else {
            self = .homeserverUsers
            return
        }
        self = .allowList(try UserAllowList(patterns))
    }

    /// Whether a confirmed user may sign in. For a password sign-in, ask it first with the user
    /// ID as typed as well: a password is then never sent to the homeserver for someone who
    /// would be refused anyway.
    public func admits(_ user: UserID) -> Bool {
        switch self {
        case .homeserverUsers: true
        case .allowList(let list): list.allows(user)
        }
    }
}
