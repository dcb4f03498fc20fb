import BridgesCore

extension UserID {
    /// Users for tests: Alice is the one the fake bridge knows by default.
    public static let alice = UserID("@alice:example.test")!
    public static let bob = UserID("@bob:example.test")!
}
