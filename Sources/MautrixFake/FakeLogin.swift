import Foundation

/// A login the bridge holds, as `/v3/whoami` reports it (bridgev2's `RespWhoamiLogin`).
struct FakeLogin {
    var id: String
    var name: String
    var profileName: String
    var email = "dummy-email-\(Random.string(6, alphabet: Random.alphanumeric))@beepbeep"
    var stateEvent = "CONNECTED"
    var timestamp = FakeLogin.unixNow()
    var userAction: String?
    var message: String?
    var error: String?

    init(id: String, name: String) {
        self.id = id
        self.name = name
        self.profileName = name
    }

    /// Bridge state timestamps are whole Unix seconds.
    static func unixNow() -> Int { Int(Date().timeIntervalSince1970) }

    var json: JSON {
        var state: [(String, JSON)] = [
            ("state_event", .string(stateEvent)), ("timestamp", .int(timestamp)),
            ("ttl", .int(error == nil ? 21600 : 3600)), ("source", .string("bridge")),
        ]
        if let error { state.append(("error", .string(error))) }
        if let message { state.append(("message", .string(message))) }
        if let userAction { state.append(("user_action", .string(userAction))) }
        var profile: [(String, JSON)] = [("email", .string(email))]
        if !profileName.isEmpty { profile.append(("name", .string(profileName))) }
        return .object([
            ("state_event", .string(stateEvent)), ("state_ts", .int(timestamp)), ("state", .object(state)),
            ("id", .string(id)), ("name", .string(name)), ("profile", .object(profile)),
        ])
    }
}
