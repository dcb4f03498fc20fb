import Foundation
import Hummingbird

/// A posted HTML form (`application/x-www-form-urlencoded`). Its values can be passwords and
/// cookies: they are read into memory for the one call they are for and never logged.
struct FormBody: Sendable {
    private var pairs: [(name: String, value: String)] = []

    init(_ text: String) {
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(pieces[0])
            let value = pieces.count > 1 ? Self.decode(pieces[1]) : ""
            pairs.append((name, value))
        }
    }

    /// Reads the body of a form post, up to `limit` bytes.
    static func read(_ request: Request, limit: Int = 1 << 20) async throws -> FormBody {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return FormBody(String(buffer: buffer))
    }

    subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value whose name starts with `prefix`, keyed by the rest of the name.
    func values(prefixed prefix: String) -> [String: String] {
        var found: [String: String] = [:]
        for pair in pairs where pair.name.hasPrefix(prefix) {
            let key = String(pair.name.dropFirst(prefix.count))
            if found[key] == nil { found[key] = pair.value }
        }
        return found
    }

    /// `+` is a space in a form; anything that is not valid percent-encoding stays as it came.
    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
