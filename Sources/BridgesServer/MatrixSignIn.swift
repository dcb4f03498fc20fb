import BridgesCore
import BridgesMatrix
import HTTPTransport
import BridgesStore
import Foundation

/// Sign-in with a Matrix account: the homeserver confirms who someone is, `users.allow` says
/// whether they may use this server, and they get an access token that acts as them. Nothing
/// of the Matrix session, the password or the Matrix token is kept.
struct MatrixSignIn: Sendable {
    let client: MatrixSignInClient
    let admission: SignInAdmission
    let users: any UserStore
    let tokens: AccessTokens
    let attempts: SignInAttempts

    /// Failed attempts allowed per user ID, and per client address, within the window.
    static let failuresPerUser = 5
    static let failuresPerAddress = 20

    enum Proof: Sendable {
        case password(user: UserID, password: String)
        case matrixToken(String, claimedUser: UserID?)
    }

    func signIn(
        _ proof: Proof, tokenName: String?, from address: String?
    ) async throws -> (record: AccessTokenRecord, secret: String) {
        let keys = Self.attemptKeys(proof, address: address)
        for (key, limit) in keys {
            if let wait = await attempts.wait(for: key, limit: limit) {
                throw BridgesError.tooManySignInAttempts(retryAfterSeconds: wait)
            }
        }
        let user: UserID
        do {
            user = try await confirm(proof)
        } catch let error as BridgesError where error.kind == .unauthorized || error.kind == .forbidden {
            for (key, _) in keys { await attempts.recordFailure(for: key) }
            throw error
        }
        if case .password(let named, _) = proof { await attempts.clear("user:\(named)") }
        _ = try await users.addUser(user, at: Date())
        return try await tokens.create(name: tokenName ?? "signin", for: user)
    }

    /// Who the homeserver says the proof belongs to, if `users.allow` admits them.
    private func confirm(_ proof: Proof) async throws -> UserID {
        do {
            switch proof {
            case .password(let user, let password):
                // Refused before the password goes anywhere.
                guard admission.admits(user) else { throw BridgesError.userNotAllowed(user) }
                let confirmed = try await client.signIn(user: user, password: password)
                guard admission.admits(confirmed) else { throw BridgesError.userNotAllowed(confirmed) }
                return confirmed
            case .matrixToken(let token, let claimed):
                let confirmed = try await client.signIn(matrixAccessToken: token)
                if let claimed, claimed != confirmed {
                    throw BridgesError.wrongCredentials("This Matrix access token belongs to another user than \(claimed).")
                }
                guard admission.admits(confirmed) else { throw BridgesError.userNotAllowed(confirmed) }
                return confirmed
            }
        } catch let failure as MatrixSignInFailure {
            throw Self.domainError(failure)
        }
    }

    private static func attemptKeys(_ proof: Proof, address: String?) -> [(String, Int)] {
        var keys: [(String, Int)] = []
        switch proof {
        case .password(let user, _): keys.append(("user:\(user)", failuresPerUser))
        case .matrixToken(_, let claimed): if let claimed { keys.append(("user:\(claimed)", failuresPerUser)) }
        }
        if let address { keys.append(("address:\(address)", failuresPerAddress)) }
        return keys
    }

    /// The one mapping from the homeserver's answers to what the API says.
    static func domainError(_ failure: MatrixSignInFailure) -> BridgesError {
        switch failure {
        case .wrongCredentials:
            return .wrongCredentials(failure.description)
        case .foreignUser(let user, _), .guestAccount(let user):
            return .userNotAllowed(user, reason: failure.description)
        case .userMismatch:
            return .userNotAllowed(reason: failure.description)
        case .userDeactivated:
            return .userDeactivated(failure.description)
        case .rateLimited(let retryAfter):
            let seconds = retryAfter.map { Int(MatrixSignInFailure.seconds($0)) } ?? 30
            return .homeserverRateLimited(failure.description, retryAfterSeconds: max(1, seconds))
        case .unreachable(let transport):
            return .homeserverFailed(failure.description, code: "homeserver_unreachable", transient: transport.isTransient)
        case .unexpectedAnswer:
            return .homeserverFailed(failure.description, code: "homeserver_error", transient: false)
        case .discoveryFailed:
            return .homeserverFailed(failure.description, code: "homeserver_discovery_failed", transient: false)
        }
    }
}
