import AsyncHTTPClient
import BridgesCore
import Foundation
import HTTPTransport
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Why a provisioning call did not give an answer to use.
enum ProvisioningFailure: Error, Sendable {
    /// The bridge answered with a Matrix-style error.
    case status(Int, Provisioning.Error)
    /// The bridge could not be reached, or did not answer in time.
    case transport(TransportFailure)
    /// The bridge answered something that is not the provisioning API.
    case invalidResponse(String)
}

/// HTTP to one bridge's provisioning API (`/_matrix/provision/v3`), authenticated with its
/// shared secret; every call acts as the Matrix user it names.
final class ProvisioningClient: Sendable {
    private let baseURL: String
    private let sharedSecret: String
    private let readTimeout: Duration
    private let http: HTTPClient
    /// Long-polls wait as long as the bridge's own 30-minute login timeout, so they get a client
    /// without a read timeout; they are ended by cancellation instead.
    private let longPollHTTP: HTTPClient

    init(baseURL: String, sharedSecret: String, connectTimeout: Duration, readTimeout: Duration) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.sharedSecret = sharedSecret
        self.readTimeout = readTimeout
        let connect = TimeAmount(connectTimeout)
        // A refused connection fails at once rather than being retried until the deadline:
        // callers decide what a down bridge means (an unavailable listing, a re-attached poll).
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: connect, read: TimeAmount(readTimeout)))
        configuration.httpVersion = .http1Only
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        var longPoll = HTTPClient.Configuration(timeout: .init(connect: connect))
        longPoll.httpVersion = .http1Only
        longPoll.connectionPool.retryConnectionEstablishment = false
        longPollHTTP = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: longPoll)
    }

    func shutdown() async {
        try? await http.shutdown()
        try? await longPollHTTP.shutdown()
    }

    func get<Response: Decodable>(
        _ path: [String], for user: UserID, as type: Response.Type = Response.self
    ) async throws -> Response {
        try decode(await send(.GET, path, for: user))
    }

    func post<Response: Decodable>(
        _ path: [String], for user: UserID, query: [String: String] = [:], body: [String: String]? = nil,
        longPoll: Bool = false, as type: Response.Type = Response.self
    ) async throws -> Response {
        try decode(await send(.POST, path, for: user, query: query, body: body, longPoll: longPoll))
    }

    private func send(
        _ method: HTTPMethod, _ path: [String], for user: UserID, query: [String: String] = [:],
        body: [String: String]? = nil, longPoll: Bool = false
    ) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url(path, query: query, user: user))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(sharedSecret)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response: HTTPClientResponse
        let collected: ByteBuffer
        do {
            if longPoll {
                response = try await longPollHTTP.execute(request, timeout: .hours(1))
            } else {
                response = try await http.execute(request, timeout: TimeAmount(readTimeout))
            }
            collected = try await response.body.collect(upTo: 8 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ProvisioningFailure.transport(TransportFailure(classifying: error))
        }
        guard (200..<300).contains(response.status.code) else {
            if let matrixError = try? JSONDecoder().decode(Provisioning.Error.self, from: Data(buffer: collected)) {
                throw ProvisioningFailure.status(Int(response.status.code), matrixError)
            }
            throw ProvisioningFailure.invalidResponse("HTTP \(response.status.code) without a Matrix error body")
        }
        return collected
    }

    private func decode<Response: Decodable>(_ buffer: ByteBuffer) throws -> Response {
        do {
            return try JSONDecoder().decode(Response.self, from: Data(buffer: buffer))
        } catch {
            throw ProvisioningFailure.invalidResponse("a body that is not the expected JSON")
        }
    }

    private func url(_ path: [String], query: [String: String], user: UserID) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        let encodedPath = path.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
        var queryAllowed = CharacterSet.urlQueryAllowed
        queryAllowed.remove(charactersIn: "&=+@:/?")
        let items = [("user_id", user.rawValue)] + query.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let encodedQuery = items.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? value)"
        }.joined(separator: "&")
        return "\(baseURL)/_matrix/provision/v3/\(encodedPath)?\(encodedQuery)"
    }
}
