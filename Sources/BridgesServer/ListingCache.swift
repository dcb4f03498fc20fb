import BridgesAPI
import BridgesCore
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// The two listings clients poll most, `GET /v1/bridges` and `GET /v1/accounts`, answered with
/// the bytes last sent while nothing in them changed. Every request still reads the bridges'
/// current views (from memory, for the demo networks) and compares them with the views those
/// bytes were made from, so an answer is never stale; what it saves is the JSON encoding, which
/// was most of the cost of a listing. Runs after authentication and rate limiting.
struct ListingCacheMiddleware: ServerMiddleware {
    let service: BridgesService
    let cache = ListingCache()

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let listing: ListingCache.Listing
        switch operationID {
        case "listBridges": listing = .bridges
        case "listAccounts": listing = .accounts
        default: return try await next(request, body, metadata)
        }
        let user = try RequestCaller.user()
        let bytes = try cache.bytes(of: listing, for: await service.bridges(for: user), user: user)
        return (
            HTTPResponse(status: .ok, headerFields: [.contentType: "application/json; charset=utf-8"]),
            HTTPBody(bytes)
        )
    }
}

/// The encoded listings of each user and the views they were made from.
final class ListingCache: Sendable {
    enum Listing: Hashable {
        case bridges
        case accounts
    }

    private struct Key: Hashable {
        var listing: Listing
        var user: UserID
    }

    private let entries = Mutex<[Key: (views: [BridgeView], bytes: [UInt8])]>([:])

    func bytes(of listing: Listing, for views: [BridgeView], user: UserID) throws -> [UInt8] {
        let key = Key(listing: listing, user: user)
        if let entry = entries.withLock({ $0[key] }), entry.views == views { return entry.bytes }
        let bytes: [UInt8]
        switch listing {
        case .bridges: bytes = Array(try JSONEncoder.api.encode(Wire.bridgeList(views)))
        case .accounts: bytes = Array(try JSONEncoder.api.encode(Wire.accountList(views)))
        }
        entries.withLock { $0[key] = (views, bytes) }
        return bytes
    }
}
