/// A request copied from a browser with "Copy as cURL", read for what a cookies login step needs:
/// its cookies and request headers. Chromium, Firefox and Safari write the bash form:
///
/// ```sh
/// curl 'https://example.com/api' \
///   -H 'accept: */*' \
///   -b 'session=abc; theme=dark' \
///   -H 'x-csrf-token: xyz' \
///   --compressed
/// ```
///
/// Nothing is run and nothing is expanded: quotes and escapes are read as bash reads them, or as
/// cmd.exe does for Chromium's "Copy as cURL (cmd)".
public struct CurlCommand: Sendable, Hashable {
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    /// The request's URL, if the command names one.
    public var url: String?
    /// The headers, in order, except `Cookie` (its values are in ``cookies``); `-A` and `-e`
    /// count as `User-Agent` and `Referer`.
    public var headers: [Header] = []
    /// Every cookie from `-b`/`--cookie` and `Cookie:` headers, in order.
    public var cookies: [Header] = []

    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case notCurl
        case unterminatedQuote
        case missingValue(option: String)

        public var description: String {
            switch self {
            case .notCurl: "this is not a curl command (it should start with `curl`)"
            case .unterminatedQuote: "a quote is not closed; was the whole command copied?"
            case .missingValue(let option): "\(option) has no value"
            }
        }
    }

    /// Reads a command; a leading `$ ` prompt is allowed.
    public init(parsing text: String) throws(ParseError) {
        var words: [String]
        do {
            // cmd quotes with `^"`, which bash would never write.
            words = try text.contains("^\"") ? ShellWords.splitWindows(text) : ShellWords.split(text)
        } catch {
            throw .unterminatedQuote
        }
        if words.first == "$" { words.removeFirst() }
        guard let command = words.first, command == "curl" || command.hasSuffix("/curl") || command == "curl.exe" else {
            throw .notCurl
        }
        var remaining = words.dropFirst()[...]
        while let word = remaining.popFirst() {
            guard word.hasPrefix("-"), word != "-" else {
                if url == nil { url = word }
                continue
            }
            let (option, attached) = Self.split(option: word)
            guard Self.takesValue(option) else { continue }
            guard let value = attached ?? remaining.popFirst() else { throw .missingValue(option: option) }
            apply(option, value)
        }
    }

    /// The value of the first header with this name, compared without case as HTTP does.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The value of the first cookie with this name (cookie names are case-sensitive).
    public func cookie(_ name: String) -> String? {
        cookies.first { $0.name == name }?.value
    }

    private mutating func apply(_ option: String, _ value: String) {
        switch option {
        case "-H", "--header":
            guard let colon = value.firstIndex(of: ":") else { return }  // `-H 'X;'` sends an empty header: nothing to use
            let name = value[..<colon].trimmingSpaces
            let headerValue = value[value.index(after: colon)...].trimmingSpaces
            if name.lowercased() == "cookie" {
                cookies += Self.cookies(in: headerValue)
            } else {
                headers.append(Header(name: name, value: headerValue))
            }
        case "-b", "--cookie":
            // Without `=` the value names a cookie file, which is not in the paste.
            if value.contains("=") { cookies += Self.cookies(in: value) }
        case "-A", "--user-agent": headers.append(Header(name: "User-Agent", value: value))
        case "-e", "--referer": headers.append(Header(name: "Referer", value: value))
        case "--url": if url == nil { url = value }
        default: break
        }
    }

    /// `a=b; c=d`, as a `Cookie` header carries them.
    static func cookies(in text: String) -> [Header] {
        text.split(separator: ";").compactMap { pair in
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let name = pair[..<equals].trimmingSpaces
            return name.isEmpty ? nil : Header(name: name, value: pair[pair.index(after: equals)...].trimmingSpaces)
        }
    }

    /// `-Hvalue` carries its value in the same word; long options never do in curl.
    private static func split(option word: String) -> (String, String?) {
        guard !word.hasPrefix("--"), word.count > 2 else { return (word, nil) }
        let option = String(word.prefix(2))
        return takesValue(option) ? (option, String(word.dropFirst(2))) : (word, nil)
    }

    /// Options whose next word is their value, so it is not taken for the URL. Any other option
    /// is a flag (`--compressed`, `-k`, `--http2`, …).
    private static func takesValue(_ option: String) -> Bool {
        valueOptions.contains(option)
    }

    private static let valueOptions: Set<String> = [
        "-H", "--header", "-b", "--cookie", "-A", "--user-agent", "-e", "--referer", "--url",
        "-X", "--request", "-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "--json",
        "-F", "--form", "--form-string", "-u", "--user", "-o", "--output", "-x", "--proxy", "-U", "--proxy-user",
        "-m", "--max-time", "--connect-timeout", "-T", "--upload-file", "-w", "--write-out", "-c", "--cookie-jar",
        "-r", "--range", "-E", "--cert", "--key", "--cacert", "--resolve", "--max-redirs", "--retry", "--limit-rate",
        "--interface", "--oauth2-bearer", "--aws-sigv4", "-K", "--config", "-Y", "--speed-limit", "-y", "--speed-time",
    ]
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
