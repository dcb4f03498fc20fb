import Foundation

/// The one wire contract, as the document the types here are generated from.
public enum OpenAPIDocument {
    /// The OpenAPI document as YAML, exactly as written in `openapi.yaml`.
    public static func yaml() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// The release of Bridges, reported in `GET /v1/info` and the `X-Beeper-Desktop-Version` header.
public enum BridgesVersion {
    public static let current = "0.1.0"
}
