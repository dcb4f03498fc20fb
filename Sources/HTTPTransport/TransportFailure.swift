import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an HTTP request got no answer, decided once from the error's type where it happened, so
/// callers switch on a value instead of searching error descriptions.
public enum TransportFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing listens at the address: the server or bridge is not running.
    case refused
    /// The connection could not be set up in time (a host that drops packets, a firewall).
    case connectTimedOut
    /// A connection was made but the answer did not arrive in time.
    case timedOut
    /// The other side closed the connection before answering (a restart, an idle proxy).
    case closed
    /// The TLS handshake did not complete.
    case tls
    /// Anything else, described.
    case other(String)

    /// Phrased to follow "cannot reach X:", which is how every caller shows it.
    public var description: String {
        switch self {
        case .refused: "connection refused"
        case .connectTimedOut: "connecting timed out"
        case .timedOut: "it did not answer in time"
        case .closed: "it closed the connection"
        case .tls: "the TLS handshake failed"
        case .other(let description): description
        }
    }

    /// Whether waiting and trying again can help: the link dropped or the other side is
    /// restarting, rather than being misconfigured.
    public var isTransient: Bool {
        switch self {
        case .refused, .connectTimedOut, .timedOut, .closed: true
        case .tls, .other: false
        }
    }

    /// Classifies an error thrown by AsyncHTTPClient or SwiftNIO by its type. An error of another
    /// kind is kept as `.other` with its description.
    public init(classifying error: any Error) {
        switch error {
        case let failure as TransportFailure:
            self = failure
        case let client as HTTPClientError:
            self = Self(client)
        case let connection as NIOConnectionError:
            self = Self(connection)
        case let io as IOError:
            self = Self(errno: io.errnoCode) ?? .other(String(describing: io))
        case let channel as ChannelError:
            self = Self(channel)
        default:
            self = .other(String(describing: error))
        }
    }

    private init(_ error: HTTPClientError) {
        switch error {
        case .connectTimeout: self = .connectTimedOut
        case .readTimeout, .writeTimeout, .deadlineExceeded: self = .timedOut
        case .remoteConnectionClosed: self = .closed
        case .tlsHandshakeTimeout: self = .tls
        default: self = .other(String(describing: error))
        }
    }

    /// One connection attempt per resolved address (`localhost` has two): a known reason from any
    /// of them says more than the description of the whole.
    private init(_ error: NIOConnectionError) {
        let reasons = error.connectionErrors.map { Self(classifying: $0.error) }
        if let known = reasons.first(where: { if case .other = $0 { false } else { true } }) {
            self = known
        } else {
            self = .other(String(describing: error))
        }
    }

    private init(_ error: ChannelError) {
        switch error {
        case .connectTimeout: self = .connectTimedOut
        case .ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed: self = .closed
        default: self = .other(String(describing: error))
        }
    }

    private init?(errno code: CInt) {
        switch code {
        case ECONNREFUSED: self = .refused
        case ETIMEDOUT: self = .connectTimedOut
        case ECONNRESET, EPIPE, ECONNABORTED: self = .closed
        default: return nil
        }
    }
}
