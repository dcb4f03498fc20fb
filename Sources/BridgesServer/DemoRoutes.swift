import BridgesCore
import BridgesDemo
import Foundation
import HTTPTypes
import Hummingbird

/// Serves the demo networks' pages and their one control route.
struct DemoRoutes {
    let environment: DemoEnvironment
    let bridgeIDs: [String]

    func register(on router: Router<BasicRequestContext>) {
        let pages = DemoPages(environment: environment)
        for path in ["/demo/scan/:token", "/demo/approve/:token", "/demo/emoji/:file", "/demo/cookies/sign-in", "/demo/cookies/signed-in"] {
            router.get(RouterPath(path)) { request, _ in try await Self.page(pages, request, form: [:]) }
        }
        router.post("/demo/cookies/sign-in") { request, context in
            let form = try await URLEncodedFormDecoder().decode(SignInForm.self, from: request, context: context)
            return try await Self.page(pages, request, form: form.name.map { ["name": $0] } ?? [:])
        }
        router.post("/demo/accounts/:accountID/reconnect-required") { _, context in
            let accountID = try context.parameters.require("accountID")
            guard let marked = try await environment.requireReconnect(accountID: accountID, bridgeIDs: bridgeIDs) else {
                throw BridgesError.accountNotFound(accountID)
            }
            let json = try JSONEncoder.api.encode([
                "accountID": accountID, "bridgeID": marked.bridgeID, "loginID": marked.loginID,
                "status": AccountStatus.reconnectRequired.rawValue,
            ])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
        }
    }

    private static func page(_ pages: DemoPages, _ request: Request, form: [String: String]) async throws -> Response {
        var cookies: [String: String] = [:]
        for name in DemoPages.cookieNames { cookies[name] = request.cookies[name]?.value }
        guard let page = await pages.respond(method: request.method.rawValue, path: request.uri.path, form: form, cookies: cookies)
        else { throw HTTPError(.notFound) }
        var headers: HTTPFields = [.contentType: page.contentType]
        for (name, value) in page.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(
            status: .init(code: page.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page.body)))
    }
}

/// The demo cookie sign-in page's form.
private struct SignInForm: Decodable {
    var name: String?
}
