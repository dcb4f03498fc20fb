import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird

/// Removing a login: a confirmation that names what goes, with the scopes the login allows.
struct RemoveView {
    var bridgeName: String
    var loginName: String
    var accounts: [String]
    var manyAccounts: Bool
    var action: String
    var csrf: String
    var scopes: [ScopeItem]
    var problem: ProblemView?

    struct ScopeItem {
        var scopeValue: String
        var scopeLabel: String
        var scopeHint: String
        var checked: Bool
    }
}

extension WebPage {
    func removePage(_ request: Request, bridgeID: String, loginID: String) async throws -> Response {
        try await signedIn(request) { session in
            try await renderRemove(bridgeID: bridgeID, loginID: loginID, session: session, problem: nil, status: .ok)
        }
    }

    func removeLogin(_ request: Request, bridgeID: String, loginID: String) async throws -> Response {
        try await signedInForm(request) { session, form in
            let user = session.identity.user
            guard let scope = form["scope"].flatMap(RemoveScope.init(rawValue:)) else {
                return try await renderRemove(
                    bridgeID: bridgeID, loginID: loginID, session: session,
                    problem: ProblemView(problemTitle: "Choose how to remove it", problemText: "Pick one of the choices below."),
                    status: .unprocessableContent)
            }
            let name: String
            do {
                let (bridge, login) = try await actions.login(bridgeID: bridgeID, loginID: loginID, for: user)
                name = "\(AccountNames.name(of: login)) from \(bridge.displayName)"
                _ = try await actions.removeLogin(bridgeID: bridgeID, loginID: loginID, scope: scope, for: user)
            } catch let error as BridgesError where error.kind == .notFound {
                await sessions.setFlash(Flash(kind: .info, text: "That account was already removed."), for: session.id)
                return Self.redirect(to: "/")
            } catch let error as BridgesError where error.kind == .unprocessable || error.kind == .upstream {
                return try await renderRemove(
                    bridgeID: bridgeID, loginID: loginID, session: session,
                    problem: ProblemView(problemTitle: "It was not removed", problemText: error.message),
                    status: error.kind.pageStatus)
            }
            await sessions.setFlash(Flash(kind: .info, text: "Removed \(name)."), for: session.id)
            return Self.redirect(to: "/")
        }
    }

    private func renderRemove(
        bridgeID: String, loginID: String, session: PageSession, problem: ProblemView?, status: HTTPResponse.Status
    ) async throws -> Response {
        let (bridge, login) = try await actions.login(bridgeID: bridgeID, loginID: loginID, for: session.identity.user)
        let loginName = AccountNames.name(of: login)
        let scopes = login.removeScopes.enumerated().map { index, scope in
            RemoveView.ScopeItem(
                scopeValue: scope.rawValue, scopeLabel: Self.label(of: scope), scopeHint: Self.hint(of: scope, network: bridge.displayName),
                checked: index == 0)
        }
        let accounts = login.accounts.map { AccountNames.name(of: $0.user, fallback: $0.accountID) }
        let view = RemoveView(
            bridgeName: bridge.displayName, loginName: loginName, accounts: accounts, manyAccounts: accounts.count > 1,
            action: "/accounts/\(PagePath.segment(bridgeID))/\(PagePath.segment(loginID))/remove", csrf: session.csrfToken,
            scopes: scopes, problem: problem)
        return try renderer.page(
            "remove", view, layout: LayoutView(title: "Remove \(loginName)", session: session), status: status)
    }

    private static func label(of scope: RemoveScope) -> String {
        switch scope {
        case .currentDevice: "Only from Bridges"
        case .allDevices: "Sign out everywhere"
        }
    }

    private static func hint(of scope: RemoveScope, network: String) -> String {
        switch scope {
        case .currentDevice: "Bridges forgets this login; the account stays signed in on your other devices."
        case .allDevices: "Also signs this account out of \(network) on every device."
        }
    }
}
