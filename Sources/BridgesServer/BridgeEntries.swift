import BridgesCore
import BridgesMautrix
import Configuration
import Foundation

/// The `bridges:` list of the configuration file: the real bridges to connect. Each key of an
/// entry can also come from the environment, as `BRIDGES_BRIDGE_<ID>_<KEY>` (for `sh-whatsapp`'s
/// `mautrix.sharedSecret`: `BRIDGES_BRIDGE_SH_WHATSAPP_MAUTRIX_SHARED_SECRET`), which wins.
enum BridgeEntries {
    static func parse(_ entries: [BridgeEntry], environment: ConfigReader, reservedIDs: Set<String>) throws -> [MautrixBridgeConfiguration] {
        var seen = reservedIDs
        return try entries.enumerated().map { index, entry in
            let bridge = try parse(entry, index: index, environment: environment)
            guard seen.insert(bridge.id).inserted else {
                throw ConfigurationError("bridges[\(index)] (\(bridge.id)): 'id' is already used by another bridge.")
            }
            return bridge
        }
    }

    private static func parse(_ entry: BridgeEntry, index: Int, environment: ConfigReader) throws -> MautrixBridgeConfiguration {
        guard let id = entry.id, !id.isEmpty else {
            throw ConfigurationError("bridges[\(index)]: 'id' is missing.")
        }
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ConfigurationError("bridges[\(index)] (\(id)): 'id' may hold only letters, digits, '-', '_' and '.'.")
        }
        let name = "bridges[\(index)] (\(id))"
        let mautrix = entry.mautrix ?? BridgeEntry.Mautrix()

        /// The environment's value for the entry's key `path`, else the file's.
        func value(_ path: String, file: String?, secret: Bool = false) -> String? {
            let key = ConfigKey(["bridge", id] + path.split(separator: ".").map(String.init))
            return environment.string(forKey: key, isSecret: secret) ?? file
        }
        func required(_ key: String, file: String?, secret: Bool = false) throws -> String {
            guard let found = value("mautrix.\(key)", file: file, secret: secret), !found.isEmpty else {
                throw ConfigurationError("\(name): 'mautrix.\(key)' is missing.")
            }
            return found
        }
        func seconds(_ key: String, file: String?, default fallback: Duration) throws -> Duration {
            guard let text = value("mautrix.\(key)", file: file) else { return fallback }
            return try ConfigurationValue.seconds(text, key: "\(name): 'mautrix.\(key)'")
        }

        let url = try required("url", file: mautrix.url)
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw ConfigurationError("\(name): 'mautrix.url' must be an http(s) URL such as http://127.0.0.1:29319, not '\(url)'.")
        }
        // Optional: given, the bridge serves only that user; left out, it acts as whoever calls.
        var userID: UserID?
        if let text = value("mautrix.userID", file: mautrix.userID), !text.isEmpty {
            guard let parsedUser = UserID(text) else {
                throw ConfigurationError("\(name): 'mautrix.userID' must be a Matrix user ID such as @alice:example.com, not '\(text)'.")
            }
            userID = parsedUser
        }
        var provider = BridgeProvider.selfHosted
        if let text = value("provider", file: entry.provider) {
            guard let parsedProvider = BridgeProvider(rawValue: text) else {
                throw ConfigurationError(
                    "\(name): 'provider' must be one of \(BridgeProvider.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'.")
            }
            provider = parsedProvider
        }
        let multiple = try value("supportsMultipleAccounts", file: entry.supportsMultipleAccounts).map {
            try ConfigurationValue.flag($0, key: "\(name): 'supportsMultipleAccounts'")
        }
        return MautrixBridgeConfiguration(
            id: id, url: url, sharedSecret: try required("sharedSecret", file: mautrix.sharedSecret, secret: true),
            userID: userID, displayName: value("displayName", file: entry.displayName),
            type: value("type", file: entry.type), network: value("network", file: entry.network), provider: provider,
            supportsMultipleAccounts: multiple ?? true,
            connectTimeout: try seconds("connectTimeoutSeconds", file: mautrix.connectTimeoutSeconds, default: .seconds(5)),
            readTimeout: try seconds("readTimeoutSeconds", file: mautrix.readTimeoutSeconds, default: .seconds(30)))
    }
}
