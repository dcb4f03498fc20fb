import Foundation

/// What the fake reads from a request: its query string and a step's JSON body.
enum Query {
    /// The first value wins, as Go's `url.Values.Get` does.
    static func parse(_ query: String?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    /// A step's body as bridgev2 decodes it into `map[string]string`: `null` is an empty map and
    /// anything but an object of strings is not JSON it accepts (nil).
    static func decodeInput(_ body: String) -> [String: String]? {
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "null" { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        var result: [String: String] = [:]
        for (key, value) in object {
            guard let string = value as? String else { return nil }
            result[key] = string
        }
        return result
    }
}
