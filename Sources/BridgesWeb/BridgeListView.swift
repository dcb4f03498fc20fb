import BridgesCore

/// The overview: each bridge with its status and the accounts connected through it, grouped by
/// login (reconnecting and removing act on a login and every account it holds).
struct BridgeListView {
    var bridges: [BridgeItem]

    struct BridgeItem {
        var bridgeID: String
        var anchor: String
        var bridgeName: String
        var bridgeNetwork: String?
        var bridgeStatus: String
        var bridgeStatusClass: String
        var bridgeNote: String?
        var canConnect: Bool
        var connectURL: String
        var logins: [LoginItem]
        var hasLogins: Bool
    }

    struct LoginItem {
        var loginName: String
        var accounts: [AccountItem]
        var reconnectURL: String
        var removeURL: String
    }

    struct AccountItem {
        var accountName: String
        var accountStatus: String
        var accountStatusClass: String
        var accountNote: String?
    }

    init(_ views: [BridgeView]) {
        bridges = views.map(BridgeItem.init)
    }
}

extension BridgeListView.BridgeItem {
    init(_ view: BridgeView) {
        let id = PagePath.segment(view.descriptor.id)
        bridgeID = view.descriptor.id
        anchor = "bridge-\(PagePath.htmlID(view.descriptor.id))"
        bridgeName = view.descriptor.displayName
        bridgeNetwork = view.descriptor.network.flatMap { $0 == view.descriptor.displayName ? nil : $0 }
        bridgeStatus = StatusWords.bridge(view.status)
        bridgeStatusClass = StatusWords.tone(of: view.status)
        bridgeNote = view.statusText
        canConnect = view.status == .available
        connectURL = "/connect/\(id)"
        // Accounts arrive flat, each naming its login; a login's accounts stay together, in order.
        var order: [String] = []
        var byLogin: [String: [AccountView]] = [:]
        for account in view.accounts {
            if byLogin[account.loginID] == nil { order.append(account.loginID) }
            byLogin[account.loginID, default: []].append(account)
        }
        logins = order.map { loginID in
            let accounts = byLogin[loginID] ?? []
            let names = accounts.map { AccountNames.name(of: $0.account.user, fallback: $0.account.accountID) }
            return BridgeListView.LoginItem(
                loginName: names.count == 1 ? names[0] : loginID,
                accounts: accounts.map { account in
                    BridgeListView.AccountItem(
                        accountName: AccountNames.name(of: account.account.user, fallback: account.account.accountID),
                        accountStatus: StatusWords.account(account.account.status),
                        accountStatusClass: StatusWords.tone(of: account.account.status),
                        accountNote: account.account.statusText)
                },
                reconnectURL: "/connect/\(id)?login=\(PagePath.segment(loginID))",
                removeURL: "/accounts/\(id)/\(PagePath.segment(loginID))/remove")
        }
        hasLogins = !logins.isEmpty
    }
}

/// Statuses in words; colour only repeats what the words say.
enum StatusWords {
    static func bridge(_ status: BridgeStatus) -> String {
        switch status {
        case .available: "Ready to connect"
        case .connected: "Connected"
        case .limitReached: "Account limit reached"
        case .temporarilyUnavailable: "Unavailable right now"
        case .disabled: "Turned off"
        }
    }

    static func account(_ status: AccountStatus) -> String {
        switch status {
        case .connected: "Connected"
        case .connecting: "Connecting"
        case .backfilling: "Syncing history"
        case .connectionRequired: "Needs connecting"
        case .reconnectRequired: "Sign in again"
        case .attentionRequired: "Needs attention"
        case .disconnected: "Disconnected"
        case .disabled: "Turned off"
        }
    }

    static func tone(of status: BridgeStatus) -> String {
        switch status {
        case .available, .connected: "good"
        case .limitReached, .disabled: "neutral"
        case .temporarilyUnavailable: "bad"
        }
    }

    static func tone(of status: AccountStatus) -> String {
        switch status {
        case .connected, .backfilling: "good"
        case .connecting: "neutral"
        case .connectionRequired, .reconnectRequired, .attentionRequired, .disconnected: "bad"
        case .disabled: "neutral"
        }
    }
}
