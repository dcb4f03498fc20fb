import BridgesCore
import BridgesDemo
import Foundation
import HTTPTypes
import Hummingbird

/// The demo networks' pages, each its own route and open to anyone (a phone or a browser opens
/// them), and the demo's one control route, which changes state and needs a token.
struct DemoRoutes {
    let pages: DemoPages
    let service: BridgesService
    let tokens: AccessTokens

    func register(on router: Router<BridgesRequestContext>) {
        let demo = router.group("demo")
        demo.get("scan/:token") { _, context in
            Self.response(await pages.approve(try context.parameters.require("token")))
        }
        demo.get("approve/:token") { _, context in
            Self.response(await pages.approve(try context.parameters.require("token")))
        }
        demo.get("emoji/:file") { _, context in
            guard try context.parameters.require("file").hasSuffix(".svg") else { throw HTTPError(.notFound) }
            return Self.response(pages.emoji())
        }
        router.get(RouterPath(DemoPages.cookiesSignInPath)) { _, _ in Self.response(pages.signInForm()) }
        router.post(RouterPath(DemoPages.cookiesSignInPath)) { request, context in
            let form = try await URLEncodedFormDecoder().decode(SignInForm.self, from: request, context: context)
            return Self.response(pages.signIn(name: form.name ?? ""))
        }
        router.get(RouterPath(DemoPages.cookiesSignedInPath)) { request, _ in
            Self.response(pages.signedIn(session: request.cookies[DemoPages.sessionCookie]?.value))
        }
        demo.group("accounts").add(middleware: BearerAuthMiddleware(tokens: tokens))
            .post(":accountID/reconnect-required") { _, context in
                let accountID = try context.parameters.require("accountID")
                let marked = try await service.requireReconnect(accountID: accountID, for: try RequestCaller.user())
                let json = try JSONEncoder.api.encode([
                    "accountID": accountID, "bridgeID": marked.bridge.id, "loginID": marked.loginID,
                    "status": marked.account.status.rawValue,
                ])
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
            }
    }

    private static func response(_ page: DemoPage) -> Response {
        var headers: HTTPFields = [.contentType: page.contentType]
        for (name, value) in page.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        var response = Response(
            status: .init(code: page.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page.body)))
        if let cookie = page.cookie {
            response.setCookie(Cookie(name: cookie.name, value: cookie.value, path: cookie.path, httpOnly: true, sameSite: .lax))
        }
        return response
    }
}

/// The demo cookie sign-in page's form.
private struct SignInForm: Decodable {
    var name: String?
}
