/// The few client-server API bodies sign-in needs, as the Matrix specification names their keys.
enum MatrixWire {
    struct PasswordLogin: Encodable {
        struct Identifier: Encodable {
            let type = "m.id.user"
            let user: String
        }
        let type = "m.login.password"
        let identifier: Identifier
        let password: String
        let initialDeviceDisplayName: String

        enum CodingKeys: String, CodingKey {
            case type, identifier, password
            case initialDeviceDisplayName = "initial_device_display_name"
        }
    }

    struct LoginResponse: Decodable {
        let accessToken: String
        let deviceID: String?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case deviceID = "device_id"
        }
    }

    struct WhoAmI: Decodable {
        let userID: String
        let isGuest: Bool?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case isGuest = "is_guest"
        }
    }

    /// A standard error body: `{"errcode": "M_FORBIDDEN", "error": "…"}`.
    struct Error: Decodable {
        let errcode: String?
        let retryAfterMilliseconds: Int64?

        enum CodingKeys: String, CodingKey {
            case errcode
            case retryAfterMilliseconds = "retry_after_ms"
        }
    }

    /// `/.well-known/matrix/client`; only the homeserver's base URL matters here.
    struct WellKnown: Decodable {
        struct Homeserver: Decodable {
            let baseURL: String

            enum CodingKeys: String, CodingKey {
                case baseURL = "base_url"
            }
        }
        let homeserver: Homeserver?

        enum CodingKeys: String, CodingKey {
            case homeserver = "m.homeserver"
        }
    }

    struct Empty: Encodable {}
}
