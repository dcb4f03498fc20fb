/// A change to something the `/v1/bridges` resource shows, as subscribers hear of it. Each
/// carries the same values a GET of that object answers.
public enum BridgeEvent: Sendable {
    /// A bridge's status, accounts or display changed.
    case bridgeUpdated(BridgeView)
    case loginUpserted(bridge: BridgeDescriptor, login: Login)
    case loginDeleted(bridgeID: String, loginID: String, accountIDs: [String])
    case accountUpdated(AccountView)
    /// Any change of a login session: a new step, a refreshed display, completion, failure,
    /// cancellation, expiry.
    case loginSessionUpdated(LoginSessionView)

    public var bridgeID: String {
        switch self {
        case .bridgeUpdated(let view): view.descriptor.id
        case .loginUpserted(let bridge, _): bridge.id
        case .loginDeleted(let bridgeID, _, _): bridgeID
        case .accountUpdated(let view): view.bridge.id
        case .loginSessionUpdated(let view): view.bridge.id
        }
    }

    /// The session an event is about, for subscribers that follow single sessions.
    public var loginSessionID: String? {
        if case .loginSessionUpdated(let view) = self { return view.session.id }
        return nil
    }
}
