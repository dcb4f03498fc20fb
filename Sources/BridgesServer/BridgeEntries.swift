import BridgesCore
import BridgesMautrix
import Configuration
import Foundation

/// The `bridges:` list of the configuration file: the real bridges to connect. Each key of an
/// entry can also come from the environment, as `BRIDGES_BRIDGE_<ID>_<KEY>` (for `sh-whatsapp`'s
/// `mautrix.sharedSecret`: `BRIDGES_BRIDGE_SH_WHATSAPP_MAUTRIX_SHARED_SECRET`), which wins.
enum BridgeEntries {
    static func parse(_ list: Any?, environment: ConfigReader, reservedIDs: Set<String>) throws -> [MautrixBridgeConfiguration] {
        guard let list else { return [] }
        guard let entries = list as? [Any] else {
            throw ConfigurationError("'bridges' must be a list of bridge entries.")
        }
        var seen = reservedIDs
        return try entries.enumerated().map { index, value in
            guard let entry = value as? [String: Any] else {
                throw ConfigurationError("bridges[\(index)]: each entry must be a mapping with 'id' and 'mautrix'.")
            }
            let bridge = try parse(entry, index: index, environment: environment)
            guard seen.insert(bridge.id).inserted else {
                throw ConfigurationError("bridges[\(index)] (\(bridge.id)): 'id' is already used by another bridge.")
            }
            return bridge
        }
    }

    private static func parse(_ entry: [String: Any], index: Int, environment: ConfigReader) throws -> MautrixBridgeConfiguration {
        guard let id = scalar(entry["id"]), !id.isEmpty else {
            throw ConfigurationError("bridges[\(index)]: 'id' is missing.")
        }
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ConfigurationError("bridges[\(index)] (\(id)): 'id' may hold only letters, digits, '-', '_' and '.'.")
        }
        let name = "bridges[\(index)] (\(id))"
        let mautrix = entry["mautrix"] as? [String: Any] ?? [:]

        func value(_ key: String, in section: [String: Any], path: String, secret: Bool = false) -> String? {
            let configKey = ConfigKey(["bridge", id] + path.split(separator: ".").map(String.init))
            return environment.string(forKey: configKey, isSecret: secret) ?? scalar(section[key])
        }
        func required(_ key: String, secret: Bool = false) throws -> String {
            guard let found = value(key, in: mautrix, path: "mautrix.\(key)", secret: secret), !found.isEmpty else {
                throw ConfigurationError("\(name): 'mautrix.\(key)' is missing.")
            }
            return found
        }
        func seconds(_ key: String, default fallback: Duration) throws -> Duration {
            guard let text = value(key, in: mautrix, path: "mautrix.\(key)") else { return fallback }
            guard let number = Double(text), number > 0 else {
                throw ConfigurationError("\(name): 'mautrix.\(key)' must be a positive number of seconds, not '\(text)'.")
            }
            return .milliseconds(Int64(number * 1000))
        }

        let url = try required("url")
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw ConfigurationError("\(name): 'mautrix.url' must be an http(s) URL such as http://127.0.0.1:29319, not '\(url)'.")
        }
        let userID = try required("userID")
        guard userID.hasPrefix("@"), userID.contains(":") else {
            throw ConfigurationError("\(name): 'mautrix.userID' must be a Matrix user ID such as @alice:example.com, not '\(userID)'.")
        }
        var provider = BridgeProvider.selfHosted
        if let text = value("provider", in: entry, path: "provider") {
            guard let parsedProvider = BridgeProvider(rawValue: text) else {
                throw ConfigurationError(
                    "\(name): 'provider' must be one of \(BridgeProvider.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'.")
            }
            provider = parsedProvider
        }
        var multiple = true
        if let text = value("supportsMultipleAccounts", in: entry, path: "supportsMultipleAccounts") {
            guard let flag = Bool(text.lowercased()) else {
                throw ConfigurationError("\(name): 'supportsMultipleAccounts' must be true or false, not '\(text)'.")
            }
            multiple = flag
        }
        return MautrixBridgeConfiguration(
            id: id, url: url, sharedSecret: try required("sharedSecret", secret: true), userID: userID,
            displayName: value("displayName", in: entry, path: "displayName"), type: value("type", in: entry, path: "type"),
            network: value("network", in: entry, path: "network"), provider: provider, supportsMultipleAccounts: multiple,
            connectTimeout: try seconds("connectTimeoutSeconds", default: .seconds(5)),
            readTimeout: try seconds("readTimeoutSeconds", default: .seconds(30)))
    }

    static func scalar(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let number as Int: String(number)
        case let number as Double: String(number)
        case let flag as Bool: String(flag)
        default: nil
        }
    }
}
