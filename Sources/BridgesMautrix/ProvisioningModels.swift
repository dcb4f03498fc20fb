import BridgesCore

/// The bridgev2 provisioning API's JSON, as mautrix-go writes it. Only what Bridges reads is
/// declared; unknown keys are ignored, so newer bridges still decode.
enum Provisioning {
    struct Error: Decodable, Sendable {
        var errcode: String
        var error: String
        var internalError: String?

        enum CodingKeys: String, CodingKey {
            case errcode, error
            case internalError = "fi.mau.internal_error"
        }
    }

    struct Flows: Decodable, Sendable {
        var flows: [Flow]
    }

    struct Flow: Decodable, Sendable {
        var id: String
        var name: String?
        var description: String?
    }

    struct Whoami: Decodable, Sendable {
        var network: Network?
        var loginFlows: [Flow]?
        var logins: [WhoamiLogin]?

        enum CodingKeys: String, CodingKey {
            case network, logins
            case loginFlows = "login_flows"
        }
    }

    struct Network: Decodable, Sendable {
        var displayname: String?
        var networkID: String?
        var beeperBridgeType: String?
        var networkIcon: String?

        enum CodingKeys: String, CodingKey {
            case displayname
            case networkID = "network_id"
            case beeperBridgeType = "beeper_bridge_type"
            case networkIcon = "network_icon"
        }
    }

    struct WhoamiLogin: Decodable, Sendable {
        var id: String
        var name: String?
        var profile: Profile?
        var state: BridgeState?
        /// Deprecated mirror of `state.state_event`, still sent; used when `state` is absent.
        var stateEvent: String?

        enum CodingKeys: String, CodingKey {
            case id, name, profile, state
            case stateEvent = "state_event"
        }
    }

    struct Profile: Decodable, Sendable {
        var phone: String?
        var email: String?
        var username: String?
        var name: String?
        var avatar: String?
    }

    struct BridgeState: Decodable, Sendable {
        var stateEvent: String?
        var userAction: String?
        var message: String?
        var error: String?
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case message, error, reason
            case stateEvent = "state_event"
            case userAction = "user_action"
        }
    }

    /// A login step: `login_id` and `txn_id` sit beside the step's own keys.
    struct Step: Decodable, Sendable {
        var loginID: String?
        var txnID: String?
        var type: String
        var stepID: String
        var instructions: String?
        var userInput: UserInput?
        var cookies: Cookies?
        var displayAndWait: DisplayAndWait?
        var complete: Complete?

        enum CodingKeys: String, CodingKey {
            case type, instructions, cookies, complete
            case loginID = "login_id"
            case txnID = "txn_id"
            case stepID = "step_id"
            case userInput = "user_input"
            case displayAndWait = "display_and_wait"
        }
    }

    struct UserInput: Decodable, Sendable {
        var fields: [InputField]?
        var attachments: [JSONValue]?
    }

    struct InputField: Decodable, Sendable {
        var type: String?
        var id: String
        var name: String?
        var description: String?
        var defaultValue: String?

        enum CodingKeys: String, CodingKey {
            case type, id, name, description
            case defaultValue = "default_value"
        }
    }

    struct Cookies: Decodable, Sendable {
        var url: String
        var userAgent: String?
        var fields: [CookieField]?
        var extractJS: String?
        var waitForURLPattern: String?

        enum CodingKeys: String, CodingKey {
            case url, fields
            case userAgent = "user_agent"
            case extractJS = "extract_js"
            case waitForURLPattern = "wait_for_url_pattern"
        }
    }

    struct CookieField: Decodable, Sendable {
        var id: String
        var required: Bool?
        var sources: [CookieSource]?
    }

    struct CookieSource: Decodable, Sendable {
        var type: String
        var name: String?
    }

    struct DisplayAndWait: Decodable, Sendable {
        var type: String
        var data: String?
        var imageURL: String?

        enum CodingKeys: String, CodingKey {
            case type, data
            case imageURL = "image_url"
        }
    }

    struct Complete: Decodable, Sendable {
        var userLoginID: String?

        enum CodingKeys: String, CodingKey {
            case userLoginID = "user_login_id"
        }
    }
}
