/// What beeper/dummybridge answers, plus the fake's own `qr` flow and 2FA step. Key order is
/// the bridge's, which the transcript's byte-for-byte bodies depend on.
enum Canned {
    static let network = JSON.object([
        ("displayname", .string("Dummy")), ("network_url", .string("https://beeper.com")),
        ("network_icon", .string("mxc://beeper.com/f6ec13a4953757f04c1714b43d1c8ec451e0bab1")),
        ("network_id", .string("dummy")), ("beeper_bridge_type", .string("beeper.com/dummy")),
    ])

    static let flows = JSON.array(
        [
            ("Password", "Log in with a password", "password"),
            ("Cookies", "Log in with extracted cookies", "cookies"),
            ("Local storage", "Log in with extracted local storage", "localstorage"),
            ("Display and wait", "Log in through a remote server", "displayandwait"),
            ("QR", "Scan a QR code", "qr"),
        ].map { .object([("name", .string($0.0)), ("description", .string($0.1)), ("id", .string($0.2))]) })

    static let capabilities = JSON.object([
        (
            "resolve_identifier",
            .object(
                ["create_dm", "lookup_phone", "lookup_email", "lookup_username", "any_phone", "contact_list", "search"]
                    .map { ($0, .bool(false)) })
        ),
        ("group_creation", .null),
    ])

    static func field(_ type: String, _ id: String, _ name: String) -> JSON {
        .object([("type", .string(type)), ("id", .string(id)), ("name", .string(name)), ("description", .string(""))])
    }

    static let passwordStep = Step(
        type: "user_input", stepID: "com.beeper.dummy.password", instructions: "",
        parameters: .object([
            (
                "fields",
                .array([
                    field("username", "username", "username, anything goes and it's used as the ID"),
                    field("password", "password", "password, anything goes"),
                ])
            )
        ]))

    static let twoFactorStep = Step(
        type: "user_input", stepID: "com.beeper.dummy.2fa", instructions: "",
        parameters: .object([("fields", .array([field("2fa_code", "code", "Code")]))]))

    static func cookieStep(_ stepID: String, url: String, source: String, domain: String?) -> Step {
        func cookieField(_ name: String) -> JSON {
            var sourceFields: [(String, JSON)] = [("type", .string(source)), ("name", .string(name))]
            if let domain { sourceFields.append(("cookie_domain", .string(domain))) }
            return .object([
                ("id", .string(name)), ("required", .bool(true)), ("sources", .array([.object(sourceFields)])),
            ])
        }
        return Step(
            type: "cookies", stepID: stepID, instructions: "",
            parameters: .object([
                ("url", .string(url)), ("fields", .array([cookieField("username"), cookieField("password")])),
            ]))
    }

    static let cookiesStep = cookieStep(
        "com.beeper.dummy.cookies", url: "https://random.mau.fi/dummy/pages/cookies.html", source: "cookie",
        domain: "random.mau.fi")
    static let localStorageStep = cookieStep(
        "com.beeper.dummy.localstorage", url: "https://random.mau.fi/dummy/pages/localstorage.html",
        source: "local_storage", domain: nil)

    static func displayAndWaitStep(code: String) -> Step {
        Step(
            type: "display_and_wait", stepID: "com.beeper.dummy.displayandwait",
            instructions: "Enter the code on https://random.mau.fi/dummy/pages/daw_submit.html",
            parameters: .object([("type", .string("code")), ("data", .string(code))]))
    }

    static func qrStep(_ number: Int) -> Step {
        Step(
            type: "display_and_wait", stepID: "com.beeper.dummy.qr",
            instructions: "Scan the QR code with the Dummy app on your phone",
            parameters: .object([("type", .string("qr")), ("data", .string("qr-payload-\(number)"))]))
    }

    static func completeStep(_ loginID: String) -> Step {
        Step(
            type: "complete", stepID: "com.beeper.dummy.complete",
            instructions: "Successfully logged in with whatever you provided",
            parameters: .object([("user_login_id", .string(loginID))]))
    }
}
