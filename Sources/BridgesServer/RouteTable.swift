import BridgesAPI
import Yams

/// What the server learns from the OpenAPI document rather than repeating it: each path's
/// methods (so a request with a method a path does not take gets 405 with `Allow`, not 404) and
/// which operations need no token (`security: []`).
struct RouteTable: Sendable {
    private let routes: [(segments: [String], methods: [String])]
    /// Operation IDs that declare `security: []`.
    let publicOperationIDs: Set<String>

    init(spec: String) throws {
        let document = try YAMLDecoder().decode(Document.self, from: spec)
        routes = document.paths.map { path, item in
            (path.split(separator: "/").map(String.init), item.operations.map(\.method).sorted())
        }
        publicOperationIDs = Set(
            document.paths.values.flatMap(\.operations).filter { $0.operation.security?.isEmpty == true }
                .map(\.operation.operationId))
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

    private struct Document: Decodable {
        var paths: [String: PathItem]
    }

    private struct PathItem: Decodable {
        var get: Operation?
        var put: Operation?
        var post: Operation?
        var delete: Operation?
        var patch: Operation?

        var operations: [(method: String, operation: Operation)] {
            [("GET", get), ("PUT", put), ("POST", post), ("DELETE", delete), ("PATCH", patch)]
                .compactMap { method, operation in operation.map { (method, $0) } }
        }
    }

    private struct Operation: Decodable {
        var operationId: String
        /// Absent: the document's default (a token); empty: no token needed.
        var security: [[String: [String]]]?
    }
}
