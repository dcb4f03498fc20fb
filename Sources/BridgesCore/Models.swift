import Foundation

/// Who runs a bridge, as clients group them.
public enum BridgeProvider: String, Sendable, Codable, CaseIterable {
    case cloud
    case selfHosted = "self-hosted"
    case local
    case platformSDK = "platform-sdk"
}

/// Whether a new account can be connected through a bridge now.
public enum BridgeStatus: String, Sendable, Codable, CaseIterable {
    case available
    case connected
    case limitReached = "limit_reached"
    case temporarilyUnavailable = "temporarily_unavailable"
    case disabled
}

public enum AccountStatus: String, Sendable, Codable, CaseIterable {
    case connected
    case connecting
    case backfilling
    case connectionRequired = "connection_required"
    case reconnectRequired = "reconnect_required"
    case attentionRequired = "attention_required"
    case disconnected
    case disabled

    /// Accounts that count towards `activeAccountCount`.
    public var isActive: Bool {
        switch self {
        case .connected, .connecting, .backfilling: true
        default: false
        }
    }
}

public enum LoginStatus: String, Sendable, Codable, CaseIterable {
    case connected
    case connecting
    case needsLogin = "needs_login"
    case loggedOut = "logged_out"
    case unknown
}

public enum RemoveScope: String, Sendable, Codable, CaseIterable {
    case currentDevice = "current-device"
    case allDevices = "all-devices"
}

/// What a connector says about its bridge; the core adds accounts and derives the status.
public struct BridgeDescriptor: Sendable, Hashable {
    public var id: String
    public var displayName: String
    public var type: String
    public var network: String?
    public var provider: BridgeProvider
    public var supportsMultipleAccounts: Bool
    /// Set when the bridge cannot take logins at all (unreachable, disabled); `nil` means it works.
    public var unavailable: Unavailability?

    public struct Unavailability: Sendable, Hashable {
        public var status: BridgeStatus
        public var reason: String
        public init(status: BridgeStatus, reason: String) {
            self.status = status
            self.reason = reason
        }
    }

    public init(
        id: String, displayName: String, type: String, network: String? = nil, provider: BridgeProvider,
        supportsMultipleAccounts: Bool, unavailable: Unavailability? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.type = type
        self.network = network
        self.provider = provider
        self.supportsMultipleAccounts = supportsMultipleAccounts
        self.unavailable = unavailable
    }
}

public struct User: Sendable, Hashable, Codable {
    public var id: String
    public var fullName: String?
    public var username: String?
    public var email: String?
    public var phoneNumber: String?
    public var imgURL: String?
    public var isSelf: Bool?
    public var cannotMessage: Bool?

    public init(
        id: String, fullName: String? = nil, username: String? = nil, email: String? = nil,
        phoneNumber: String? = nil, imgURL: String? = nil, isSelf: Bool? = nil, cannotMessage: Bool? = nil
    ) {
        self.id = id
        self.fullName = fullName
        self.username = username
        self.email = email
        self.phoneNumber = phoneNumber
        self.imgURL = imgURL
        self.isSelf = isSelf
        self.cannotMessage = cannotMessage
    }
}

/// One chat account; a login holds one or more.
public struct Account: Sendable, Hashable, Codable {
    public var accountID: String
    public var status: AccountStatus
    public var statusText: String?
    public var user: User
    public var network: String?
    public var capabilities: [String: JSONValue]?

    public init(
        accountID: String, status: AccountStatus, statusText: String? = nil, user: User, network: String? = nil,
        capabilities: [String: JSONValue]? = nil
    ) {
        self.accountID = accountID
        self.status = status
        self.statusText = statusText
        self.user = user
        self.network = network
        self.capabilities = capabilities
    }
}

/// One signed-in identity on a bridge, with the accounts it holds.
public struct Login: Sendable, Hashable, Codable {
    public var loginID: String
    public var status: LoginStatus
    public var statusText: String?
    public var user: User?
    public var removeScopes: [RemoveScope]
    public var accounts: [Account]

    public init(
        loginID: String, status: LoginStatus, statusText: String? = nil, user: User? = nil,
        removeScopes: [RemoveScope], accounts: [Account]
    ) {
        self.loginID = loginID
        self.status = status
        self.statusText = statusText
        self.user = user
        self.removeScopes = removeScopes
        self.accounts = accounts
    }
}

/// An account together with its bridge and login, as the API answers it.
public struct AccountView: Sendable, Hashable {
    public var bridge: BridgeDescriptor
    public var loginID: String
    public var account: Account
}

/// A bridge as the API answers it: what the connector describes plus its accounts and status.
public struct BridgeView: Sendable, Hashable {
    public var descriptor: BridgeDescriptor
    public var status: BridgeStatus
    public var statusText: String?
    public var accounts: [AccountView]
    public var activeAccountCount: Int
}

public struct LoginFlow: Sendable, Hashable, Codable {
    public var id: String
    public var name: String?
    public var description: String?

    public init(id: String, name: String? = nil, description: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
    }
}
