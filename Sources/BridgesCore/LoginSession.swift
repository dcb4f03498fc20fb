import Foundation

public enum LoginSessionStatus: String, Sendable, Codable, CaseIterable {
    case waitingForInput = "waiting_for_input"
    case waitingForCookies = "waiting_for_cookies"
    case waitingForDisplay = "waiting_for_display"
    case complete
    case cancelled
    case failed

    public var isTerminal: Bool {
        switch self {
        case .complete, .cancelled, .failed: true
        case .waitingForInput, .waitingForCookies, .waitingForDisplay: false
        }
    }
}

/// A step as a session shows it: the connector's step under a session-unique wire ID.
public struct SessionStep: Sendable, Hashable {
    /// Unique within the session, so a step that was applied can be told apart from a later
    /// step that the connector happens to give the same ID (bridgev2 reuses step IDs).
    public var id: String
    public var step: Step

    public var kind: StepKind { step.kind }
}

/// A login session at one moment, as the API answers it.
public struct LoginSession: Sendable, Hashable {
    public var id: String
    /// Whose session it is: nobody else can see or change it.
    public var userID: UserID
    public var bridgeID: String
    public var flowID: String
    public var status: LoginSessionStatus
    /// Present while the session waits for the client, and once it completes.
    public var currentStep: SessionStep?
    public var error: SessionError?
    public var loginID: String?
    public var accountID: String?
    /// The login this session created or re-authenticated, once complete.
    public var login: Login?
    public var createdAt: Date
    public var updatedAt: Date

    var record: LoginSessionRecord {
        LoginSessionRecord(
            id: id, userID: userID, bridgeID: bridgeID, flowID: flowID, status: status, error: error, loginID: loginID,
            accountID: accountID, createdAt: createdAt, updatedAt: updatedAt)
    }

    init(record: LoginSessionRecord) {
        id = record.id
        userID = record.userID
        bridgeID = record.bridgeID
        flowID = record.flowID
        status = record.status
        error = record.error
        loginID = record.loginID
        accountID = record.accountID
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }

    init(id: String, userID: UserID, bridgeID: String, flowID: String, loginID: String?, accountID: String?, now: Date) {
        self.id = id
        self.userID = userID
        self.bridgeID = bridgeID
        self.flowID = flowID
        self.status = .waitingForInput
        self.loginID = loginID
        self.accountID = accountID
        self.createdAt = now
        self.updatedAt = now
    }
}
