/// Random identifiers shaped like the ones mautrix and dummybridge hand out, so that clients
/// see values of the real lengths and alphabets.
enum Random {
    static let alphanumeric = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    static func string(_ length: Int, alphabet: [Character]) -> String {
        String((0..<length).map { _ in alphabet.randomElement() ?? "0" })
    }

    /// 20 characters in xid's alphabet (`[0-9a-v]`), like mautrix's login process and request IDs.
    static func id() -> String { string(20, alphabet: Array("0123456789abcdefghijklmnopqrstuv")) }

    /// A dummybridge-style code: Crockford base32, "XXXX-XXXX".
    static func code() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        return string(4, alphabet: alphabet) + "-" + string(4, alphabet: alphabet)
    }
}
