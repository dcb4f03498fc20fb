import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird

/// Choosing how to sign in to a bridge, and starting that login session.
struct ConnectView {
    var bridgeName: String
    var reconnectName: String?
    var action: String
    var csrf: String
    var loginID: String?
    var flows: [FlowItem]
    var hasFlows: Bool
    var problem: ProblemView?

    struct FlowItem {
        var flowID: String
        var flowName: String
        var flowDescription: String?
    }
}

/// Why something cannot be done now, in plain words.
struct ProblemView {
    var problemTitle: String
    var problemText: String
}

extension WebPage {
    func overview(_ request: Request) async throws -> Response {
        try await signedIn(request) { session in
            let list = BridgeListView(await actions.bridges(for: session.identity.user))
            if request.uri.queryParameters["part"] == "bridges" { return try renderer.fragment("bridges", list) }
            let layout = LayoutView(
                title: "Chat networks", session: session, flash: await sessions.takeFlash(for: session.id),
                live: LiveView(mode: "overview", fragment: "/?part=bridges"))
            return try renderer.page("overview", list, layout: layout)
        }
    }

    func connectPage(_ request: Request, bridgeID: String) async throws -> Response {
        try await signedIn(request) { session in
            let loginID = request.uri.queryParameters["login"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            return try await renderConnect(bridgeID: bridgeID, loginID: loginID, session: session, problem: nil, status: .ok)
        }
    }

    func startSession(_ request: Request, bridgeID: String) async throws -> Response {
        try await signedInForm(request) { session, form in
            let flowID = form["flow"].flatMap { $0.isEmpty ? nil : $0 }
            let loginID = form["login"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                let started = try await actions.createSession(
                    bridgeID: bridgeID, flowID: flowID, loginID: loginID, for: session.identity.user)
                return Self.redirect(to: "/connect/\(PagePath.segment(bridgeID))/\(PagePath.segment(started.session.id))")
            } catch let error as BridgesError where error.kind != .notFound {
                let name = (try? await actions.bridge(bridgeID, for: session.identity.user))?.descriptor.displayName ?? bridgeID
                return try await renderConnect(
                    bridgeID: bridgeID, loginID: loginID, session: session, problem: Self.problem(starting: error, bridge: name),
                    status: error.kind.pageStatus)
            }
        }
    }

    private func renderConnect(
        bridgeID: String, loginID: String?, session: PageSession, problem: ProblemView?, status: HTTPResponse.Status
    ) async throws -> Response {
        let user = session.identity.user
        let bridge = try await actions.bridge(bridgeID, for: user)
        let name = bridge.descriptor.displayName
        var reconnectName: String?
        if let loginID { reconnectName = AccountNames.name(of: try await actions.login(bridgeID: bridgeID, loginID: loginID, for: user).login) }
        var problem = problem
        var flows: [LoginFlow] = []
        if problem == nil, loginID == nil, bridge.status != .available {
            problem = ProblemView(
                problemTitle: bridge.status == .connected ? "\(name) already has an account" : "\(name) is not available right now",
                problemText: (bridge.statusText ?? StatusWords.bridge(bridge.status))
                    + (bridge.status == .connected ? " Reconnect or remove it from the list of networks." : ""))
        }
        if problem == nil {
            do {
                flows = try await actions.loginFlows(bridgeID: bridgeID, for: user)
            } catch let error as BridgesError where error.kind == .upstream {
                problem = Self.problem(starting: error, bridge: name)
            }
        }
        let view = ConnectView(
            bridgeName: name, reconnectName: reconnectName, action: "/connect/\(PagePath.segment(bridgeID))",
            csrf: session.csrfToken, loginID: loginID,
            flows: flows.map { ConnectView.FlowItem(flowID: $0.id, flowName: $0.name ?? $0.id, flowDescription: $0.description) },
            hasFlows: !flows.isEmpty, problem: problem)
        let title = reconnectName.map { "Reconnect \($0) on \(name)" } ?? "Connect \(name)"
        return try renderer.page(
            "connect", view, layout: LayoutView(title: title, session: session, flash: await sessions.takeFlash(for: session.id)),
            status: status)
    }

    static func problem(starting error: BridgesError, bridge name: String) -> ProblemView {
        switch error.kind {
        case .upstream:
            ProblemView(problemTitle: "\(name) cannot be reached", problemText: "\(error.message) Try again in a moment.")
        case .tooManyRequests:
            ProblemView(problemTitle: "Too many sign-ins in progress", problemText: error.message)
        case .conflict where error.code == "account_limit_reached":
            ProblemView(problemTitle: "\(name) allows one account", problemText: error.message)
        default:
            ProblemView(problemTitle: "The sign-in could not start", problemText: error.message)
        }
    }
}

extension BridgesError.Kind {
    /// The status of a page that reports this failure.
    var pageStatus: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        case .tooManyRequests: .tooManyRequests
        case .upstream: .badGateway
        default: .badRequest
        }
    }
}
