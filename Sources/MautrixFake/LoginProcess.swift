/// One login process the bridge runs (`login_id` upstream), between `login/start` and its end.
struct LoginProcess {
    let id: String
    /// Who started it: only they may step or cancel it.
    let userID: String
    let flow: String
    let override: String?
    var next: Step
    var previous: Step?
    /// New generation: a display-and-wait step is running in the background.
    var started = false
    var pending: [QREvent] = []
    var displayCount = 1
    /// Username and password kept from the password step while 2FA is asked.
    var username = ""
    var password = ""
}

/// A step as the bridge sends it; `parameters` go under the key named by `type`.
struct Step {
    var type: String
    var stepID: String
    var txnID = ""
    var instructions: String
    var parameters: JSON

    func json(processID: String, generation: FakeProvisioningServer.Generation) -> JSON {
        var fields: [(String, JSON)] = [
            ("login_id", .string(processID)), ("type", .string(type)), ("step_id", .string(stepID)),
        ]
        if generation == .new { fields.append(("txn_id", .string(txnID))) }
        fields.append(("instructions", .string(instructions)))
        var parameters = parameters
        if generation == .new, type == "user_input", case .object(var members) = parameters {
            members.append(("attachments", .null))  // bridgev2 >= v0.26.4 always sends the key
            parameters = .object(members)
        }
        fields.append((type, parameters))
        return .object(fields)
    }
}

/// What the phone does to a display-and-wait step: show a new code, or accept the shown one.
enum QREvent { case refresh, scan }
