/// The provisioning endpoints, from the path segments after `/_matrix/provision/`.
enum Route {
    case whoami, capabilities, flows, logins
    case start(flowID: String)
    case step(processID: String, stepID: String, stepType: String)
    case cancel(processID: String)
    case logout(loginID: String)

    /// Nil for a path mautrix's router does not know (a 404), including the cancel endpoint on
    /// the old generation, which predates it.
    init?(segments: [String], generation: FakeProvisioningServer.Generation) {
        guard segments.allSatisfy({ !$0.isEmpty }), segments.first == "v3" else { return nil }
        switch Array(segments.dropFirst()) {
        case ["whoami"]: self = .whoami
        case ["capabilities"]: self = .capabilities
        case ["login", "flows"]: self = .flows
        case ["logins"]: self = .logins
        case let s where s.count == 3 && s[0] == "login" && s[1] == "start": self = .start(flowID: s[2])
        case let s where s.count == 5 && s[0] == "login" && s[1] == "step":
            self = .step(processID: s[2], stepID: s[3], stepType: s[4])
        case let s where s.count == 3 && s[0] == "login" && s[1] == "cancel" && generation == .new:
            self = .cancel(processID: s[2])
        case let s where s.count == 2 && s[0] == "logout": self = .logout(loginID: s[1])
        default: return nil
        }
    }

    /// A known path with another method is a 405, not a 404.
    var method: String {
        switch self {
        case .whoami, .capabilities, .flows, .logins: "GET"
        case .start, .step, .cancel, .logout: "POST"
        }
    }
}
