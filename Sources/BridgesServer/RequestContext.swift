import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basics plus the client's address, which
/// sign-in's attempt limit is kept by.
public struct BridgesRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Hands the client's address to the generated handlers, which see only the HTTP request.
struct ClientAddressMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: BridgesRequestContext,
        next: (Request, BridgesRequestContext) async throws -> Response
    ) async throws -> Response {
        try await RequestCaller.$address.withValue(context.remoteAddress?.ipAddress) { try await next(request, context) }
    }
}
