import AsyncHTTPClient
import BridgesClient
import BridgesCore
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A second user on a test server: their token, their generated client, and raw requests as them.
struct OtherUser {
    let server: TestServer
    let id: UserID
    let client: Client
    let token: String

    static func add(_ id: UserID, to server: TestServer) async throws -> OtherUser {
        let (client, token) = try await server.user(id)
        return OtherUser(server: server, id: id, client: client, token: token)
    }

    func rawJSON(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (status: Int, json: [String: Any]) {
        try await server.rawJSON(method, path, body: body, headers: ["Authorization": "Bearer \(token)"], authorized: false)
    }
}

/// An error body with the ID it is about taken out: two of these are equal when the answers
/// differ in nothing but the ID, so a caller cannot tell one answer from the other.
struct ErrorShape: Equatable, CustomStringConvertible {
    var status: Int
    var code: String?
    var message: String?
    var keys: [String]
    var details: String?

    init(_ response: (status: Int, json: [String: Any]), id: String) {
        status = response.status
        code = response.json["code"] as? String
        message = (response.json["message"] as? String)?.replacingOccurrences(of: id, with: "<id>")
        keys = response.json.keys.sorted()
        details = (response.json["details"]).flatMap { details in
            (try? JSONSerialization.data(withJSONObject: details, options: .sortedKeys))
                .map { String(decoding: $0, as: UTF8.self).replacingOccurrences(of: id, with: "<id>") }
        }
    }

    var description: String { "\(status) \(code ?? "-") \(message ?? "-") \(keys) \(details ?? "")" }
}

/// Polls (bounded by the suite's time limit) until `condition` holds for what `read` returns.
func eventually<Value>(_ read: () async throws -> Value, until condition: (Value) -> Bool) async throws -> Value {
    var value = try await read()
    while !condition(value) {
        try await Task.sleep(for: .milliseconds(5))
        value = try await read()
    }
    return value
}
