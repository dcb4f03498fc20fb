import Foundation

/// Where the homeserver is, as the `matrix.homeserver` setting says it: the client API's base
/// URL (`http://127.0.0.1:8008`), used as it is, or a server name (`example.com`), whose
/// `/.well-known/matrix/client` names the base URL.
public enum HomeserverLocation: Sendable, Hashable, CustomStringConvertible {
    /// An http(s) URL without a trailing slash.
    case baseURL(String)
    /// A Matrix server name: a host, optionally with a port.
    case serverName(String)

    /// Reads a setting's text; `nil` when it is neither an http(s) URL nor a server name.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("://") {
            guard let url = URL(string: trimmed), url.scheme == "http" || url.scheme == "https",
                let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
            else { return nil }
            var base = trimmed
            while base.hasSuffix("/") { base.removeLast() }
            self = .baseURL(base)
            return
        }
        guard Self.isServerName(trimmed) else { return nil }
        self = .serverName(trimmed)
    }

    /// The server name every user of this homeserver has, when the setting says it. A base URL
    /// does not: the client learns the name from the homeserver's first confirmed answer.
    public var serverName: String? {
        if case .serverName(let name) = self { return name }
        return nil
    }

    public var description: String {
        switch self {
        case .baseURL(let url): url
        case .serverName(let name): name
        }
    }

    /// A DNS name, an IPv4 address or a bracketed IPv6 literal, then an optional port, as the
    /// Matrix specification's server name grammar has it.
    private static func isServerName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 255 else { return false }
        var host = Substring(text)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let literal = host[host.index(after: host.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            host = host[host.index(after: close)...]
            return host.isEmpty || isPort(host)
        }
        if let colon = host.firstIndex(of: ":") {
            guard isPort(host[colon...]) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    /// `:` followed by 1–5 digits.
    private static func isPort(_ text: Substring) -> Bool {
        let digits = text.dropFirst()
        return text.first == ":" && (1...5).contains(digits.count) && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }
}
