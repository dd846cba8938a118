import Storage
import Testing

@Suite("Display message store")
struct DisplayMessageStoreTests {
    static func message(_ id: Int, transaction: String? = nil, endsAtMs: Int64? = nil) -> StoredDisplayMessage {
        StoredDisplayMessage(id: id, priority: "NormalCycle", endsAtMs: endsAtMs, transactionId: transaction,
                             format: "ASCII", content: "message \(id)")
    }

    @Test func aMessageIsStoredReplacedByItsIdAndRemoved() throws {
        let store = try StationStorage(database: Database.inMemory()).displayMessages
        #expect(try store.put(Self.message(1), limit: 5) == .stored)
        var changed = Self.message(1)
        changed.priority = "AlwaysFront"
        changed.state = "Idle"
        changed.language = "nl"
        changed.content = "Welkom"
        #expect(try store.put(changed, limit: 5) == .replaced)
        #expect(try store.all() == [changed])
        #expect(try store.remove(id: 1))
        #expect(try !store.remove(id: 1))
        #expect(try store.count() == 0)
    }

    @Test func theLimitRefusesANewMessageButStillReplacesOne() throws {
        let store = try StationStorage(database: Database.inMemory()).displayMessages
        for id in 1...3 { #expect(try store.put(Self.message(id), limit: 3) == .stored) }
        #expect(try store.put(Self.message(4), limit: 3) == .full)
        #expect(try store.all().map(\.id) == [1, 2, 3])
        #expect(try store.put(Self.message(2), limit: 3) == .replaced)
        #expect(try store.count() == 3)
    }

    @Test func messagesOfAnEndedTransactionAndExpiredOnesGo() throws {
        let store = try StationStorage(database: Database.inMemory()).displayMessages
        _ = try store.put(Self.message(1, transaction: "tx-a"), limit: 10)
        _ = try store.put(Self.message(2, transaction: "tx-b"), limit: 10)
        _ = try store.put(Self.message(3, transaction: "tx-a"), limit: 10)
        _ = try store.put(Self.message(4, endsAtMs: 5_000), limit: 10)
        _ = try store.put(Self.message(5, endsAtMs: 9_000), limit: 10)
        #expect(try store.removeBound(toTransaction: "tx-a") == [1, 3])
        #expect(try store.removeExpired(nowMs: 4_999) == [])
        #expect(try store.removeExpired(nowMs: 5_000) == [4])
        #expect(try store.all().map(\.id) == [2, 5])
    }

    @Test func messagesSurviveReopeningTheDatabase() throws {
        let dir = try TemporaryDirectory()
        do {
            let storage = try StationStorage(dataDirectory: dir.path)
            _ = try storage.displayMessages.put(Self.message(7), limit: 10)
        }
        let reopened = try StationStorage(dataDirectory: dir.path)
        #expect(try reopened.displayMessages.all() == [Self.message(7)])
    }
}
