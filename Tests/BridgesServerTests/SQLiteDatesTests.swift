import BridgesCore
import BridgesStore
import BridgesTestSupport
import Foundation
import Testing

/// Dates are stored as numbers, so the queries that compare them with a number match.
@Suite(.timeLimit(.minutes(2)))
struct SQLiteDatesTests {
    @Test func oldSessionsAreDeletedByDate() async throws {
        let store = try SQLiteStore.inMemory(owner: .alice)
        let now = Date()
        func record(_ id: String, age days: Double) -> LoginSessionRecord {
            let date = now.addingTimeInterval(-days * 86_400)
            return LoginSessionRecord(
                id: id, userID: .alice, bridgeID: "demo-password", flowID: "password", status: .complete,
                createdAt: date, updatedAt: date)
        }
        try await store.saveSession(record("ls_old", age: 10))
        try await store.saveSession(record("ls_new", age: 1))
        #expect(try await store.deleteSessions(updatedBefore: now.addingTimeInterval(-7 * 86_400)) == 1)
        #expect(try await store.session(id: "ls_old") == nil)
        let kept = try #require(try await store.session(id: "ls_new"))
        #expect(abs(kept.updatedAt.timeIntervalSince(now.addingTimeInterval(-86_400))) < 0.001)
    }
}
