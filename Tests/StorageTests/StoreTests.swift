import Storage
import Testing

func migratedInMemory() throws -> StationStorage {
    try StationStorage(database: Database.inMemory(), authorizationCacheCapacity: 3)
}

@Suite struct ConfigStoreTests {
    @Test func setGetRemoveAll() throws {
        let store = try migratedInMemory().config
        #expect(try store.value(for: "HeartbeatInterval") == nil)
        try store.set("300", for: "HeartbeatInterval")
        try store.set("60", for: "HeartbeatInterval")
        try store.set(["A": "1", "B": "two"])
        #expect(try store.value(for: "HeartbeatInterval") == "60")
        #expect(try store.all() == ["HeartbeatInterval": "60", "A": "1", "B": "two"])
        #expect(try store.remove("A"))
        #expect(try store.remove("A") == false)
        #expect(throws: StorageError.self) { try store.set(["C": "3", "": "bad"]) }
        #expect(try store.value(for: "C") == nil)  // all or nothing
    }
}

@Suite struct ConnectorAvailabilityStoreTests {
    @Test func unavailableIsRememberedAcrossReopen() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try StationStorage(dataDirectory: dir.path).connectorAvailability
            #expect(try store.availability(ofConnector: 1) == .operative)
            try store.set(.inoperative, forConnector: 1)
            try store.set(.inoperative, forConnector: 2)
            try store.set(.operative, forConnector: 2)
            #expect(throws: StorageError.invalidArgument("connector id -1 is negative")) {
                try store.set(.inoperative, forConnector: -1)
            }
        }
        let reopened = try StationStorage(dataDirectory: dir.path).connectorAvailability
        #expect(try reopened.availability(ofConnector: 1) == .inoperative)
        #expect(try reopened.all() == [1: .inoperative, 2: .operative])
    }
}

@Suite struct AuthorizationCacheStoreTests {
    @Test func lookupReturnsWhatWasPutAndMarksUse() throws {
        let cache = try migratedInMemory().authorizationCache
        let record = AuthorizationRecord(idToken: "AA11", status: .accepted, expiresAt: 500, parentIdToken: "G")
        try cache.put(record, now: 100)
        #expect(try cache.lookup("AA11", now: 200) == record)
        #expect(try cache.lastUsed("AA11") == 200)
        #expect(try cache.lookup("nope", now: 200) == nil)
        #expect(record.effectiveStatus(at: 499) == .accepted)
        #expect(record.effectiveStatus(at: 500) == .expired)
        try cache.put(AuthorizationRecord(idToken: "AA11", status: .blocked), now: 300)
        #expect(try cache.lookup("AA11", now: 300)?.status == .blocked)
        #expect(try cache.count() == 1)
    }

    @Test func fullCacheEvictsInvalidAndExpiredFirstThenLeastRecentlyUsed() throws {
        let cache = try migratedInMemory().authorizationCache  // capacity 3
        try cache.put(AuthorizationRecord(idToken: "A", status: .accepted), now: 1)
        try cache.put(AuthorizationRecord(idToken: "B", status: .blocked), now: 2)
        try cache.put(AuthorizationRecord(idToken: "C", status: .accepted, expiresAt: 5), now: 3)

        // A is the least recently used, but B (blocked) and C (expired at 10) go first, older first.
        try cache.put(AuthorizationRecord(idToken: "D", status: .accepted), now: 10)
        #expect(try cache.lastUsed("B") == nil)
        try cache.put(AuthorizationRecord(idToken: "E", status: .accepted), now: 11)
        #expect(try cache.lastUsed("C") == nil)

        // All valid now: plain LRU. Using A makes D the least recently used.
        #expect(try cache.lookup("A", now: 12) != nil)
        try cache.put(AuthorizationRecord(idToken: "F", status: .accepted), now: 13)
        #expect(try cache.lastUsed("D") == nil)
        #expect(try cache.count() == 3)
        for token in ["A", "E", "F"] { #expect(try cache.lastUsed(token) != nil) }
    }

    @Test func usesWithinTheSameSecondStillOrderLRU() throws {
        let cache = try migratedInMemory().authorizationCache
        for token in ["X", "Y", "Z"] { try cache.put(AuthorizationRecord(idToken: token, status: .accepted), now: 7) }
        _ = try cache.lookup("X", now: 7)
        try cache.put(AuthorizationRecord(idToken: "W", status: .accepted), now: 7)
        #expect(try cache.lastUsed("Y") == nil)
        #expect(try cache.lastUsed("X") == 7)
    }

    @Test func leastFrequentlyUsedEvictsTheTokenUsedLeastOften() throws {
        let cache = try migratedInMemory().authorizationCache  // capacity 3
        cache.rules = .init(eviction: .leastFrequentlyUsed)
        for token in ["A", "B", "C"] { try cache.put(AuthorizationRecord(idToken: token, status: .accepted), now: 1) }
        // A is used three more times, B once, C not: C goes although it is the most recent.
        for _ in 0..<3 { _ = try cache.lookup("A", now: 2) }
        _ = try cache.lookup("B", now: 3)
        try cache.put(AuthorizationRecord(idToken: "D", status: .accepted), now: 4)
        #expect(try cache.lastUsed("C") == nil)
        // D (one use) and B (two) are below A: D goes next, the least used and then the oldest use.
        try cache.put(AuthorizationRecord(idToken: "E", status: .accepted), now: 5)
        #expect(try cache.lastUsed("D") == nil)
        for token in ["A", "B", "E"] { #expect(try cache.lastUsed(token) != nil) }
    }

    @Test func firstInFirstOutEvictsTheFirstStoredHoweverOftenItIsUsed() throws {
        let cache = try migratedInMemory().authorizationCache
        cache.rules = .init(eviction: .firstInFirstOut)
        for token in ["A", "B", "C"] { try cache.put(AuthorizationRecord(idToken: token, status: .accepted), now: 1) }
        _ = try cache.lookup("A", now: 2)
        // Storing A again (the CSMS answered for it) keeps its place in the queue.
        try cache.put(AuthorizationRecord(idToken: "A", status: .accepted), now: 3)
        try cache.put(AuthorizationRecord(idToken: "D", status: .accepted), now: 4)
        #expect(try cache.lastUsed("A") == nil)
        // Back to LRU: B was used least recently.
        cache.rules = .init(eviction: .leastRecentlyUsed)
        _ = try cache.lookup("B", now: 5)
        try cache.put(AuthorizationRecord(idToken: "E", status: .accepted), now: 6)
        #expect(try cache.lastUsed("C") == nil && cache.lastUsed("B") == 5)
    }

    @Test func aTokenUnusedForItsLifeTimeIsGone() throws {
        let cache = try migratedInMemory().authorizationCache
        cache.rules = .init(lifeTimeSeconds: 100)
        try cache.put(AuthorizationRecord(idToken: "A", status: .accepted), now: 1_000)
        try cache.put(AuthorizationRecord(idToken: "B", status: .accepted), now: 1_000)
        #expect(try cache.lookup("A", now: 1_099) != nil, "used within its life time: kept, and the clock starts again")
        #expect(try cache.lookup("A", now: 1_198) != nil)
        #expect(try cache.lookup("B", now: 1_100) == nil, "100 s without a use")
        #expect(try cache.count() == 1, "and removed")
        // A store clears every token past its life time.
        try cache.put(AuthorizationRecord(idToken: "C", status: .accepted), now: 1_400)
        #expect(try cache.count() == 1 && cache.lastUsed("C") == 1_400)
        // Without a life time nothing ages out.
        cache.rules = .init()
        #expect(try cache.lookup("C", now: 90_000) != nil)
    }

    @Test func clearAndRemoveEmptyIt() throws {
        let cache = try migratedInMemory().authorizationCache
        try cache.put(AuthorizationRecord(idToken: "A", status: .accepted), now: 1)
        try cache.put(AuthorizationRecord(idToken: "B", status: .accepted), now: 1)
        #expect(try cache.remove("A"))
        try cache.clear()
        #expect(try cache.count() == 0)
        #expect(throws: StorageError.invalidArgument("empty id token")) {
            try cache.put(AuthorizationRecord(idToken: "", status: .accepted), now: 1)
        }
        #expect(throws: StorageError.self) { _ = try AuthorizationCacheStore(database: Database.inMemory(), capacity: 0) }
    }
}

@Suite struct LocalAuthorizationListStoreTests {
    @Test func fullUpdateReplacesTheListAndSetsTheVersion() throws {
        let list = try migratedInMemory().localList
        #expect(try list.currentVersion() == 0)
        try list.fullUpdate(version: 3, entries: [AuthorizationRecord(idToken: "OLD", status: .accepted)])
        try list.fullUpdate(version: 4, entries: [
            AuthorizationRecord(idToken: "CARD1", status: .accepted, expiresAt: 1_900_000_000, parentIdToken: "FLEET"),
            AuthorizationRecord(idToken: "CARD2", status: .blocked),
        ])
        #expect(try list.currentVersion() == 4)
        #expect(try list.lookup("OLD") == nil)
        #expect(try list.lookup("CARD1")
            == AuthorizationRecord(idToken: "CARD1", status: .accepted, expiresAt: 1_900_000_000, parentIdToken: "FLEET"))
        #expect(try list.lookup("CARD2")?.status == .blocked)
        try list.fullUpdate(version: 5, entries: [])
        #expect(try list.count() == 0)
        #expect(try list.currentVersion() == 0, "an empty list has version 0 (OCPP 1.6 GetLocalListVersion)")
    }

    @Test func aDifferentialUpdateThatRemovesTheLastEntryLeavesVersionZero() throws {
        let list = try migratedInMemory().localList
        try list.fullUpdate(version: 3, entries: [AuthorizationRecord(idToken: "ONLY", status: .accepted)])
        try list.differentialUpdate(version: 4, changes: [.remove(idToken: "ONLY")])
        #expect(try list.count() == 0)
        #expect(try list.currentVersion() == 0)
        // From 0 the next differential update may carry any version ≥ 1 again.
        try list.differentialUpdate(version: 1, changes: [.upsert(AuthorizationRecord(idToken: "NEW", status: .accepted))])
        #expect(try list.currentVersion() == 1)
    }

    @Test func differentialUpdateAddsUpdatesAndRemoves() throws {
        let list = try migratedInMemory().localList
        try list.fullUpdate(version: 1, entries: [AuthorizationRecord(idToken: "A", status: .accepted),
                                                  AuthorizationRecord(idToken: "B", status: .accepted)])
        try list.differentialUpdate(version: 2, changes: [
            .upsert(AuthorizationRecord(idToken: "A", status: .blocked)),
            .upsert(AuthorizationRecord(idToken: "C", status: .accepted, parentIdToken: "P")),
            .remove(idToken: "B"),
            .remove(idToken: "never-there"),
        ])
        #expect(try list.currentVersion() == 2)
        #expect(try list.lookup("A")?.status == .blocked)
        #expect(try list.lookup("B") == nil)
        #expect(try list.lookup("C")?.parentIdToken == "P")
        var seen: [String] = []
        try list.forEachEntry { seen.append($0.idToken) }
        #expect(seen == ["A", "C"])
    }

    @Test func badUpdateChangesNothing() throws {
        let list = try migratedInMemory().localList
        try list.fullUpdate(version: 1, entries: [AuthorizationRecord(idToken: "KEEP", status: .accepted)])
        #expect(throws: StorageError.duplicateIdToken("DUP")) {
            try list.fullUpdate(version: 2, entries: [AuthorizationRecord(idToken: "DUP", status: .accepted),
                                                      AuthorizationRecord(idToken: "X", status: .accepted),
                                                      AuthorizationRecord(idToken: "DUP", status: .blocked)])
        }
        #expect(throws: StorageError.invalidArgument("empty id token")) {
            try list.differentialUpdate(version: 2, changes: [.remove(idToken: "KEEP"),
                                                              .upsert(AuthorizationRecord(idToken: "", status: .accepted))])
        }
        #expect(throws: StorageError.self) { try list.fullUpdate(version: -1, entries: []) }
        #expect(try list.currentVersion() == 1)
        #expect(try list.lookup("KEEP") != nil)
        #expect(try list.count() == 1)
    }

    static func generatedEntry(_ i: Int) -> AuthorizationRecord {
        let expiry: Int64? = i % 2 == 0 ? nil : Int64(1_800_000_000 + i)
        return AuthorizationRecord(idToken: "TAG\(i)", status: i % 10 == 0 ? .blocked : .accepted, expiresAt: expiry)
    }

    @Test func fiftyThousandEntriesAreStoredAndFound() throws {
        let dir = try TemporaryDirectory()
        let list = try StationStorage(dataDirectory: dir.path).localList
        // A lazy sequence: the update never holds the whole list in an array.
        try list.fullUpdate(version: 42, entries: (0..<50_000).lazy.map(Self.generatedEntry))
        #expect(try list.count() == 50_000)
        #expect(try list.currentVersion() == 42)
        var wrong = 0
        for i in stride(from: 0, to: 50_000, by: 7) where try list.lookup("TAG\(i)") != Self.generatedEntry(i) {
            wrong += 1
        }
        #expect(wrong == 0)
        #expect(try list.lookup("TAG50000") == nil)
    }
}
