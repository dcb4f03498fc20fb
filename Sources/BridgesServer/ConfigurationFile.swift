import Configuration
import Foundation
import Yams

/// The YAML configuration file. Its plain keys become configuration values (`{sessions:
/// {idleTimeoutSeconds: 90}}` is `sessions.idleTimeoutSeconds`); its `bridges:` list of
/// mappings is decoded on its own, since swift-configuration's YAML provider takes only
/// scalars and lists of scalars and refuses the whole file over it.
struct ConfigurationFile {
    var values: [AbsoluteConfigKey: ConfigValue] = [:]
    var bridges: [BridgeEntry]?

    /// Keys whose values are secrets: kept out of the configuration's logs and descriptions.
    static let secretKeys: Set<String> = ["accessToken"]

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError("The configuration file \(path) does not exist.")
        }
        let text: String
        let root: Node?
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError("The configuration file \(path) is not valid YAML: \(error)")
        }
        guard let root else { return }
        guard case .mapping(let mapping) = root else {
            throw ConfigurationError("The configuration file \(path) must be a YAML mapping.")
        }
        values = Self.flatten(mapping, prefix: [])
        if mapping["bridges"] != nil {
            bridges = try Self.decodeBridges(text)
        }
    }

    private static func flatten(_ mapping: Node.Mapping, prefix: [String]) -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, !(prefix.isEmpty && key == "bridges") else { continue }
            let path = prefix + [key]
            switch value {
            case .mapping(let nested):
                values.merge(flatten(nested, prefix: path)) { _, new in new }
            case .scalar(let scalar):
                values[AbsoluteConfigKey(path)] = ConfigValue(.string(scalar.string), isSecret: secretKeys.contains(key))
            case .sequence(let sequence):
                // Lists of plain values (`users.allow`); lists of mappings are read on their own.
                let items = sequence.compactMap(\.string)
                guard items.count == sequence.count else { continue }
                values[AbsoluteConfigKey(path)] = ConfigValue(.stringArray(items), isSecret: false)
            case .alias:
                continue
            }
        }
        return values
    }

    private static func decodeBridges(_ text: String) throws -> [BridgeEntry] {
        struct Section: Decodable { var bridges: [BridgeEntry]? }
        do {
            return try YAMLDecoder().decode(Section.self, from: text).bridges ?? []
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            guard let index = context.codingPath.dropFirst().first?.intValue else {
                throw ConfigurationError("'bridges' must be a list of bridge entries.")
            }
            throw ConfigurationError("bridges[\(index)]: each entry must be a mapping with 'id' and 'mautrix'.")
        }
    }
}

/// One entry of the `bridges:` list as written; ``BridgeEntries`` checks it and applies the
/// environment's overrides. Every value is read as text, as environment variables are.
struct BridgeEntry: Decodable {
    var id: String?
    var displayName: String?
    var type: String?
    var network: String?
    var provider: String?
    var supportsMultipleAccounts: String?
    var mautrix: Mautrix?

    struct Mautrix: Decodable {
        var url: String?
        var sharedSecret: String?
        var userID: String?
        var connectTimeoutSeconds: String?
        var readTimeoutSeconds: String?
    }
}

/// Reads the values every configuration key shares the rules of.
enum ConfigurationValue {
    /// A positive number of seconds, fractions allowed.
    static func seconds(_ text: String, key: String) throws -> Duration {
        guard let number = Double(text), number > 0, number.isFinite else {
            throw ConfigurationError("\(key) must be a positive number of seconds, not '\(text)'.")
        }
        return .milliseconds(Int64(number * 1000))
    }

    static func flag(_ text: String, key: String) throws -> Bool {
        guard let value = Bool(text.lowercased()) else {
            throw ConfigurationError("\(key) must be true or false, not '\(text)'.")
        }
        return value
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
