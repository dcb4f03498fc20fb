/// An answer the fake gives: a status and a body already encoded as the bridge would.
struct Reply: Sendable {
    var status: Int
    var body: String

    init(_ status: Int, _ body: String) {
        self.status = status
        self.body = body
    }

    /// As Go's `json.NewEncoder(w).Encode`: compact, then a newline.
    init(json: JSON, status: Int = 200) {
        self.init(status, json.encoded + "\n")
    }

    init(error code: String, _ message: String, status: Int, extra: [(String, JSON)] = []) {
        self.init(json: .object([("errcode", .string(code)), ("error", .string(message))] + extra), status: status)
    }

    static func internalError(
        _ message: String, detail: String, generation: FakeProvisioningServer.Generation
    ) -> Reply {
        let extra: [(String, JSON)] = generation == .new ? [("fi.mau.internal_error", .string(detail))] : []
        return Reply(error: "M_UNKNOWN", message, status: 500, extra: extra)
    }

    static func badState(_ message: String) -> Reply { Reply(error: "M_BAD_STATE", message, status: 500) }

    static let loginNotFound = Reply(error: "M_NOT_FOUND", "Login not found", status: 404)
    static let notJSON = Reply(error: "M_NOT_JSON", "Failed to decode request body", status: 400)
    static let cancelled = Reply(error: "FI.MAU.BRIDGE.LOGIN_CANCELLED", "Login process was cancelled", status: 410)
    static let alreadyFinished = Reply(
        error: "FI.MAU.BRIDGE.LOGIN_ALREADY_FINISHED", "Login process was already finished", status: 410)
    // exhttp.HandleErrors writes these pre-marshalled, without a newline.
    static let unrecognized = Reply(404, #"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized endpoint"}"#)
    static let invalidMethod = Reply(405, #"{"errcode":"M_UNRECOGNIZED","error":"Invalid method for endpoint"}"#)
}
