import BridgesCore
import HTTPTypes
import Hummingbird
import Logging

/// Around every page route: the security headers, and errors as pages in plain words with a way
/// forward, never as JSON or a trace.
struct PageMiddleware<Context: RequestContext>: RouterMiddleware {
    let renderer: PageRenderer
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = errorPage(for: error, request: request)
        }
        PageSecurity.apply(to: &response.headers, cacheable: request.uri.path.hasPrefix("/assets/"))
        return response
    }

    private func errorPage(for error: any Error, request: Request) -> Response {
        let here = MessageView.Link(href: request.method == .get ? request.uri.description : "/", label: "Try again")
        let home = MessageView.Link(href: "/", label: "Back to all networks")
        let view: MessageView
        let status: HTTPResponse.Status
        switch error {
        case let domain as BridgesError:
            switch domain.kind {
            case .notFound:
                status = .notFound
                view = MessageView(title: "Not found", text: domain.message, links: [home])
            case .upstream:
                status = .badGateway
                view = MessageView(
                    title: "The bridge cannot be reached",
                    text: "\(domain.message) It may be restarting; try again in a moment.", links: [here, home])
            case .tooManyRequests:
                status = .tooManyRequests
                view = MessageView(title: "Too many sign-ins at once", text: domain.message, links: [here, home])
            case .conflict, .unprocessable, .badRequest:
                status = .conflict
                view = MessageView(title: "That cannot be done now", text: domain.message, links: [home])
            default:
                status = .internalServerError
                view = Self.serverFault
                logger.error("page request failed", metadata: ["code": "\(domain.code)", "path": "\(request.uri.path)"])
            }
        case let http as any HTTPResponseError where http.status == .notFound:
            status = .notFound
            view = MessageView(title: "Not found", text: "There is no page at this address.", links: [home])
        case let http as any HTTPResponseError where http.status == .contentTooLarge:
            status = .contentTooLarge
            view = MessageView(title: "Too much to send", text: "What you sent is larger than this server accepts.", links: [home])
        default:
            status = .internalServerError
            view = Self.serverFault
            // The type only: an error's description can carry what was posted, passwords included.
            logger.error("page request failed", metadata: ["error": "\(type(of: error))", "path": "\(request.uri.path)"])
        }
        do {
            return try renderer.page("message", view, layout: LayoutView(title: view.title), status: status)
        } catch {
            return PageRenderer.html("<!doctype html><title>Error</title><p>Something went wrong. <a href=\"/\">Back to Bridges</a></p>", status: status)
        }
    }

    private static var serverFault: MessageView {
        MessageView(
            title: "Something went wrong",
            text: "Bridges could not show this page. The problem has been logged; try again, or go back to the start.",
            links: [.init(href: "/", label: "Back to all networks")])
    }
}
