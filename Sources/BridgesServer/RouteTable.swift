import BridgesAPI
import HTTPTypes
import Yams

/// The API's paths and their methods, read from the OpenAPI document, so a request with a method
/// a path does not take gets 405 with `Allow` instead of 404.
struct RouteTable: Sendable {
    private let routes: [(segments: [String], methods: [String])]

    init(spec: String) {
        let document = (try? Yams.load(yaml: spec)) as? [String: Any]
        let paths = document?["paths"] as? [String: Any] ?? [:]
        routes = paths.map { path, operations in
            let methods = (operations as? [String: Any] ?? [:]).keys
                .filter { ["get", "post", "put", "patch", "delete"].contains($0) }
                .map { $0.uppercased() }.sorted()
            return (path.split(separator: "/").map(String.init), methods)
        }
    }

    /// The methods the path takes, or `nil` when no API path matches it.
    func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        for route in routes where route.segments.count == segments.count {
            let matches = zip(route.segments, segments).allSatisfy { template, actual in
                template.hasPrefix("{") ? !actual.isEmpty : template == actual
            }
            if matches { return route.methods }
        }
        return nil
    }
}
