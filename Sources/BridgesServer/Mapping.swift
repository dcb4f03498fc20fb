import BridgesAPI
import BridgesCore
import Foundation
import OpenAPIRuntime

/// Domain values to wire types: the only place that knows both.
enum Wire {
    /// Re-reads an opaque JSON value as a generated type (capabilities, attachments, details).
    static func convert<Output: Decodable>(_ value: some Encodable, to type: Output.Type = Output.self) throws -> Output {
        try JSONDecoder().decode(Output.self, from: JSONEncoder().encode(value))
    }

    // MARK: Bridges and accounts

    static func bridgeList(_ views: [BridgeView]) -> Components.Schemas.BridgeListResponse {
        .init(items: views.map(bridge))
    }

    static func accountList(_ views: [BridgeView]) -> [Components.Schemas.Account] {
        views.flatMap(\.accounts).map(account)
    }

    static func bridge(_ view: BridgeView) -> Components.Schemas.Bridge {
        Components.Schemas.Bridge(
            id: view.descriptor.id, accounts: view.accounts.map(account), activeAccountCount: view.activeAccountCount,
            displayName: view.descriptor.displayName, provider: provider(view.descriptor.provider),
            status: bridgeStatus(view.status),
            supportsMultipleAccounts: view.descriptor.supportsMultipleAccounts, _type: view.descriptor.type,
            network: view.descriptor.network, statusText: view.statusText)
    }

    static func provider(_ provider: BridgeProvider) -> Components.Schemas.Provider {
        switch provider {
        case .cloud: .cloud
        case .selfHosted: .selfHosted
        case .local: .local
        case .platformSDK: .platformSdk
        }
    }

    static func bridgeStatus(_ status: BridgeStatus) -> Components.Schemas.Bridge.StatusPayload {
        switch status {
        case .available: .available
        case .connected: .connected
        case .limitReached: .limitReached
        case .temporarilyUnavailable: .temporarilyUnavailable
        case .disabled: .disabled
        }
    }

    static func accountStatus(_ status: AccountStatus) -> Components.Schemas.Account.StatusPayload {
        switch status {
        case .connected: .connected
        case .connecting: .connecting
        case .backfilling: .backfilling
        case .connectionRequired: .connectionRequired
        case .reconnectRequired: .reconnectRequired
        case .attentionRequired: .attentionRequired
        case .disconnected: .disconnected
        case .disabled: .disabled
        }
    }

    static func loginStatus(_ status: LoginStatus) -> Components.Schemas.BridgeLogin.StatusPayload {
        switch status {
        case .connected: .connected
        case .connecting: .connecting
        case .needsLogin: .needsLogin
        case .loggedOut: .loggedOut
        case .unknown: .unknown
        }
    }

    static func sessionStatus(_ status: LoginSessionStatus) -> Components.Schemas.LoginSession.StatusPayload {
        switch status {
        case .waitingForInput: .waitingForInput
        case .waitingForCookies: .waitingForCookies
        case .waitingForDisplay: .waitingForDisplay
        case .complete: .complete
        case .cancelled: .cancelled
        case .failed: .failed
        }
    }

    static func cookieSource(_ source: CookieSource) -> Components.Schemas.CookieField._TypePayload {
        switch source {
        case .cookie: .cookie
        case .header: .header
        case .localStorage: .localStorage
        }
    }

    static func account(_ view: AccountView) -> Components.Schemas.Account {
        account(view.account, loginID: view.loginID, bridge: view.bridge)
    }

    static func account(_ account: Account, loginID: String, bridge: BridgeDescriptor) -> Components.Schemas.Account {
        Components.Schemas.Account(
            accountID: account.accountID,
            bridge: .init(id: bridge.id, provider: provider(bridge.provider), _type: bridge.type),
            status: accountStatus(account.status), user: user(account.user),
            capabilities: account.capabilities.flatMap { try? convert($0) }, loginID: loginID,
            network: account.network ?? bridge.network, statusText: account.statusText)
    }

    static func user(_ user: User) -> Components.Schemas.User {
        Components.Schemas.User(
            id: user.id, cannotMessage: user.cannotMessage, email: user.email, fullName: user.fullName,
            imgURL: user.imgURL, isSelf: user.isSelf, phoneNumber: user.phoneNumber, username: user.username)
    }

    // MARK: Logins

    static func login(_ login: Login, bridgeID: String) -> Components.Schemas.BridgeLogin {
        Components.Schemas.BridgeLogin(
            bridgeID: bridgeID, loginID: login.loginID,
            removeScopes: login.removeScopes.map(removeScope),
            status: loginStatus(login.status), accountIDs: login.accounts.map(\.accountID),
            statusText: login.statusText, user: login.user.map(user))
    }

    static func removeScope(_ scope: RemoveScope) -> Components.Schemas.RemoveScope {
        switch scope {
        case .currentDevice: .currentDevice
        case .allDevices: .allDevices
        }
    }

    static func removeScope(_ scope: Components.Schemas.RemoveScope) -> RemoveScope {
        switch scope {
        case .currentDevice: .currentDevice
        case .allDevices: .allDevices
        }
    }

    static func removal(_ removed: RemovedLogin) -> Components.Schemas.LoginRemoveResponse {
        Components.Schemas.LoginRemoveResponse(
            bridgeID: removed.bridgeID, loginID: removed.loginID, scope: removeScope(removed.scope), status: .removed,
            affectedAccountIDs: removed.affectedAccountIDs)
    }

    static func flow(_ flow: LoginFlow) -> Components.Schemas.LoginFlow {
        Components.Schemas.LoginFlow(id: flow.id, description: flow.description, name: flow.name)
    }

    // MARK: Login sessions

    static func session(_ view: LoginSessionView) -> Components.Schemas.LoginSession {
        let session = view.session
        let bridgeID = view.bridge.id
        let login = session.login.map { Self.login($0, bridgeID: bridgeID) }
        let account = session.login.flatMap { login in
            (login.accounts.first { $0.accountID == session.accountID } ?? login.accounts.first).map {
                Self.account($0, loginID: login.loginID, bridge: view.bridge)
            }
        }
        return Components.Schemas.LoginSession(
            bridgeID: bridgeID, loginSessionID: session.id,
            status: sessionStatus(session.status), account: account,
            accountID: account?.accountID ?? session.accountID,
            currentStep: session.currentStep.map { currentStep($0, login: login, account: account) },
            error: session.error.map(apiError), login: login, connection: login, loginID: session.loginID)
    }

    static func apiError(_ error: SessionError) -> Components.Schemas.APIError {
        Components.Schemas.APIError(
            code: error.code, message: error.message,
            details: error.details.flatMap { try? convert($0) })
    }

    static func currentStep(
        _ shown: SessionStep, login: Components.Schemas.BridgeLogin?, account: Components.Schemas.Account?
    ) -> Components.Schemas.CurrentStep {
        let step = shown.step
        switch step.content {
        case .userInput(let fields, let attachments):
            return .userInput(
                .init(
                    _type: .userInput, stepID: shown.id, fields: fields.map(inputField),
                    attachments: attachments.flatMap { try? convert($0) }, instructions: step.instructions))
        case .cookies(let prompt):
            return .cookies(
                .init(
                    _type: .cookies, stepID: shown.id,
                    fields: prompt.fields.map { field in
                        .init(id: field.id, name: field.name, _type: field.source.map(cookieSource))
                    },
                    url: prompt.url, expectedFinalURLRegex: prompt.expectedFinalURLRegex, extractJS: prompt.extractJS,
                    instructions: step.instructions, userAgent: prompt.userAgent))
        case .display(let display):
            return .displayAndWait(
                .init(_type: .displayAndWait, stepID: shown.id, display: Self.display(display), instructions: step.instructions))
        case .complete:
            return .complete(
                .init(
                    _type: .complete, stepID: shown.id, account: account, instructions: step.instructions, login: login,
                    connection: login))
        }
    }

    static func inputField(_ field: InputField) -> Components.Schemas.LoginInputField {
        Components.Schemas.LoginInputField(
            id: field.id, initialValue: field.initialValue, label: field.label, optional: field.optional ? true : nil,
            placeholder: field.placeholder, _type: field.type)
    }

    static func display(_ display: Display) -> Components.Schemas.LoginDisplay {
        switch display {
        case .qr(let data): .qr(.init(_type: .qr, data: data))
        case .emoji(let imageURL): .emoji(.init(_type: .emoji, imageURL: imageURL))
        case .code(let data): .code(.init(_type: .code, data: data))
        case .nothing: .nothing(.init(_type: .nothing))
        }
    }

    static func submission(_ request: Components.Schemas.LoginStepSubmitRequest) -> StepSubmission {
        let type: StepKind =
            switch request._type {
            case .userInput: .userInput
            case .cookies: .cookies
            case .displayAndWait: .displayAndWait
            }
        return StepSubmission(
            type: type, fields: request.fields?.additionalProperties ?? [:], lastURL: request.lastURL,
            source: request.source?.rawValue)
    }
}
