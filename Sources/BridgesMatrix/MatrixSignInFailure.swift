import BridgesCore
import HTTPTransport

/// Why a sign-in with a Matrix account did not confirm a user. Each message is meant for the
/// person signing in; none ever holds a password or an access token.
public enum MatrixSignInFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The homeserver refused the user ID and password, or the access token (`M_FORBIDDEN`,
    /// `M_UNKNOWN_TOKEN`, `M_MISSING_TOKEN`, or any 401).
    case wrongCredentials
    /// The homeserver signed in someone other than the user asked for.
    case userMismatch(requested: UserID, confirmed: String)
    /// The user belongs to another server than the homeserver's: no password is sent for them,
    /// and no token of theirs is accepted.
    case foreignUser(UserID, homeserver: String)
    /// The access token belongs to a guest, whom anyone can become without credentials.
    case guestAccount(UserID)
    /// The account exists but is deactivated (`M_USER_DEACTIVATED`).
    case userDeactivated
    /// The homeserver is limiting sign-in attempts (`M_LIMIT_EXCEEDED`); `retryAfter` is how long
    /// it asked to wait, when it said.
    case rateLimited(retryAfter: Duration?)
    /// The homeserver could not be reached, or did not answer in time.
    case unreachable(TransportFailure)
    /// The homeserver answered something this client does not expect from the Matrix
    /// client-server API (another status, a body that is not the expected JSON).
    case unexpectedAnswer(String)
    /// The server name's `/.well-known/matrix/client` did not name a usable homeserver.
    case discoveryFailed(String)

    public var description: String {
        switch self {
        case .wrongCredentials:
            "The homeserver did not accept these credentials: a wrong user ID or password, or an access token that is not valid."
        case .userMismatch(let requested, let confirmed):
            "The homeserver signed in \(confirmed), not \(requested)."
        case .foreignUser(let user, let homeserver):
            "\(user) is not a user of this server's homeserver (\(homeserver))."
        case .guestAccount(let user):
            "\(user) is a guest account; guests cannot sign in."
        case .userDeactivated:
            "This Matrix account is deactivated."
        case .rateLimited(let retryAfter):
            if let retryAfter {
                "The homeserver is limiting sign-in attempts; try again in \(Self.seconds(retryAfter)) s."
            } else {
                "The homeserver is limiting sign-in attempts; try again later."
            }
        case .unreachable(let failure):
            "Cannot reach the homeserver: \(failure)."
        case .unexpectedAnswer(let what):
            "The homeserver answered unexpectedly: \(what)."
        case .discoveryFailed(let why):
            "Cannot find the homeserver: \(why)."
        }
    }

    /// Whole seconds, rounded up, so "try again in 0 s" is never said.
    public static func seconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return attoseconds > 0 ? seconds + 1 : seconds
    }
}
