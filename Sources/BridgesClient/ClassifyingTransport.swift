import BridgesAPI
import Foundation
import HTTPTransport
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// The HTTP transport under the generated client, turning every network failure into a
/// ``TransportFailure`` where it happens, so errors are told apart by type further up.
struct ClassifyingTransport: ClientTransport {
    let base: AsyncHTTPClientTransport
    /// Larger answers are not this API's; they end as ``BridgesClientError/invalidResponse(_:)``.
    static let maxBodyBytes = 16 << 20

    func send(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let response: HTTPResponse
        let streamed: HTTPBody?
        do {
            (response, streamed) = try await base.send(request, body: body, baseURL: baseURL, operationID: operationID)
        } catch {
            throw Self.classified(error)
        }
        guard let streamed else { return (response, nil) }
        // The body is read here rather than while decoding, so a connection that drops in the
        // middle of an answer is classified like one that drops before it.
        var bytes: [UInt8] = []
        do {
            for try await chunk in streamed {
                bytes.append(contentsOf: chunk)
                if bytes.count > Self.maxBodyBytes { throw BridgesClientError.invalidResponse("an answer over 16 MiB") }
            }
        } catch let error as BridgesClientError {
            throw error
        } catch {
            throw Self.classified(error)
        }
        return (response, HTTPBody(bytes))
    }

    /// Cancellation stays what it is: the retry middleware must not retry it.
    private static func classified(_ error: any Error) -> any Error {
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        return TransportFailure(classifying: error)
    }
}
