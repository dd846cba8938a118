import Storage
import Testing

@Suite struct SessionJournalTests {
    static let start = SessionStart(id: "s1", connectorId: 1, idToken: "CARD1", state: "Charging",
                                    startReason: "Authorized", startedAtMs: 1_000, meterStartWh: 10_000)

    @Test func sessionLifecycleIsRecorded() throws {
        let journal = try migratedInMemory().journal
        let begun = try journal.beginSession(Self.start)
        #expect(begun.isOpen && begun.meterStartWh == 10_000 && begun.updatedAtMs == 1_000)
        try journal.appendMeterSample(SessionMeterSample(takenAtMs: 2_000, energyWh: 10_100, powerW: 7_200), toSession: "s1")
        try journal.beginSuspension(ofSession: "s1", atMs: 3_000, reason: "SuspendedEV")
        #expect(throws: StorageError.self) { try journal.beginSuspension(ofSession: "s1", atMs: 3_500, reason: "SuspendedEVSE") }
        try journal.updateSession("s1", atMs: 3_000, state: "SuspendedEV")
        #expect(try journal.endSuspension(ofSession: "s1", atMs: 4_000))
        #expect(try journal.endSuspension(ofSession: "s1", atMs: 4_100) == false)
        try journal.updateSession("s1", atMs: 4_000, state: "Charging")
        try journal.beginSuspension(ofSession: "s1", atMs: 5_000, reason: "SuspendedEVSE")
        try journal.setTransactionId("tx-77", forSession: "s1")

        let ended = try journal.endSession("s1", stopReason: "EVDisconnected", meterStopWh: 10_500, atMs: 6_000, state: "Finishing")
        #expect(ended.endedAtMs == 6_000 && ended.meterStopWh == 10_500 && ended.stopReason == "EVDisconnected")
        #expect(ended.state == "Finishing" && ended.transactionId == "tx-77" && ended.idToken == "CARD1")
        #expect(try journal.meterSamples(ofSession: "s1") == [SessionMeterSample(takenAtMs: 2_000, energyWh: 10_100, powerW: 7_200)])
        // Ending closes the open suspension at the same instant.
        #expect(try journal.suspensions(ofSession: "s1") == [
            SessionSuspension(startedAtMs: 3_000, endedAtMs: 4_000, reason: "SuspendedEV"),
            SessionSuspension(startedAtMs: 5_000, endedAtMs: 6_000, reason: "SuspendedEVSE"),
        ])
        #expect(try journal.openSessions().isEmpty)
        #expect(try journal.recentSessions(limit: 5).map(\.id) == ["s1"])
    }

    @Test func theWriteGenerationGrowsWithEveryCommittedWriteOnly() throws {
        struct Refused: Error {}
        let journal = try migratedInMemory().journal
        let g0 = journal.writeGeneration
        _ = try journal.pending(limit: 10)
        #expect(journal.writeGeneration == g0, "a read is not a write")
        try journal.enqueue(kind: "Heartbeat", payload: "{}", atMs: 1_000)
        #expect(journal.writeGeneration == g0 + 1)
        #expect(throws: Refused.self) {
            try journal.atomically { w in
                try w.enqueue(kind: "Heartbeat", payload: "{}", sessionId: nil, atMs: 2_000)
                throw Refused()
            }
        }
        #expect(journal.writeGeneration == g0 + 1, "a rolled-back write changed nothing")
        #expect(try journal.pendingCount() == 1)
    }

    @Test func aSessionIsNeverEndedTwice() throws {
        let journal = try migratedInMemory().journal
        try journal.beginSession(Self.start)
        try journal.endSession("s1", stopReason: "Local", meterStopWh: 10_500, atMs: 6_000)
        #expect(throws: StorageError.sessionAlreadyEnded("s1")) {
            try journal.endSession("s1", stopReason: "PowerLoss", meterStopWh: 99_999, atMs: 9_000)
        }
        let record = try #require(try journal.session("s1"))
        #expect(record.meterStopWh == 10_500 && record.stopReason == "Local" && record.endedAtMs == 6_000)
        #expect(throws: StorageError.sessionAlreadyEnded("s1")) { try journal.updateSession("s1", atMs: 9_000, state: "Charging") }
        #expect(throws: StorageError.sessionAlreadyEnded("s1")) {
            try journal.appendMeterSample(SessionMeterSample(takenAtMs: 9_000, energyWh: 1), toSession: "s1")
        }
        #expect(throws: StorageError.sessionNotFound("ghost")) {
            try journal.endSession("ghost", stopReason: "Local", meterStopWh: 1, atMs: 1)
        }
        #expect(throws: StorageError.sessionAlreadyExists("s1")) { try journal.beginSession(Self.start) }
        #expect(throws: StorageError.self) {
            try journal.beginSession(SessionStart(id: "nan", connectorId: 1, state: "Charging", startedAtMs: 1, meterStartWh: .nan))
        }
    }

    @Test func endingAndQueueingTheStopAreOneAtomicStep() throws {
        struct LinkDown: Error {}
        let journal = try migratedInMemory().journal
        try journal.beginSession(Self.start)
        #expect(throws: LinkDown.self) {
            try journal.atomically { tx in
                try tx.endSession("s1", stopReason: "Local", meterStopWh: 10_500, atMs: 6_000)
                try tx.enqueue(kind: "TransactionEvent", payload: #"{"eventType":"Ended"}"#, sessionId: "s1", atMs: 6_000)
                throw LinkDown()
            }
        }
        #expect(try journal.session("s1")?.isOpen == true)
        #expect(try journal.pendingCount() == 0)
        let seq = try journal.atomically { tx in
            try tx.endSession("s1", stopReason: "Local", meterStopWh: 10_500, atMs: 6_000)
            return try tx.enqueue(kind: "TransactionEvent", payload: #"{"eventType":"Ended"}"#, sessionId: "s1", atMs: 6_000)
        }
        #expect(try journal.pending(limit: 10).map(\.seq) == [seq])
        #expect(try journal.session("s1")?.isOpen == false)
    }

    @Test func openSessionsAndUnacknowledgedMessagesSurviveAPowerCut() throws {
        let dir = try TemporaryDirectory()
        var acknowledged: Int64 = 0
        do {
            let journal = try StationStorage(dataDirectory: dir.path).journal
            try journal.beginSession(Self.start)
            try journal.beginSession(SessionStart(id: "s2", connectorId: 2, state: "Charging", startedAtMs: 1_500, meterStartWh: 50))
            try journal.endSession("s2", stopReason: "Local", meterStopWh: 60, atMs: 1_600)
            try journal.appendMeterSample(SessionMeterSample(takenAtMs: 2_000, energyWh: 10_200), toSession: "s1")
            acknowledged = try journal.enqueue(kind: "TransactionEvent", payload: "started", sessionId: "s1", atMs: 1_000)
            let second = try journal.enqueue(kind: "TransactionEvent", payload: "updated", sessionId: "s1", atMs: 2_000)
            #expect(try journal.markSent(acknowledged, atMs: 1_001))
            #expect(try journal.acknowledge(acknowledged))
            #expect(try journal.markSent(second, atMs: 2_001))
            // No close(): the process dies here with the connection open.
        }
        let journal = try StationStorage(dataDirectory: dir.path).journal
        let open = try journal.openSessions()
        #expect(open.map(\.id) == ["s1"])
        #expect(try journal.meterSamples(ofSession: "s1").last?.energyWh == 10_200)
        let pending = try journal.pending(limit: 10)
        #expect(pending.map(\.payload) == ["updated"])
        #expect(pending.first?.attempts == 1 && pending.first?.lastAttemptAtMs == 2_001)
        #expect(try journal.acknowledge(acknowledged) == false)  // a duplicate answer is harmless
    }

    @Test func queueIsOrderedAndNeverReusesASequenceNumber() throws {
        let journal = try migratedInMemory().journal
        let a = try journal.enqueue(kind: "StartTransaction", payload: "a", atMs: 1)
        let b = try journal.enqueue(kind: "MeterValues", payload: "b", atMs: 2)
        #expect(a < b)
        #expect(try journal.markSent(a, atMs: 3))
        #expect(try journal.markSent(a, atMs: 4))
        #expect(try journal.pending(limit: 1).map(\.attempts) == [2])
        #expect(try journal.acknowledge(b))
        let c = try journal.enqueue(kind: "StopTransaction", payload: "c", atMs: 5)
        #expect(c > b)  // b's number is gone for good
        #expect(try journal.pending(limit: 10).map(\.payload) == ["a", "c"])
        #expect(try journal.markSent(b, atMs: 6) == false)
        #expect(throws: StorageError.self) { try journal.enqueue(kind: "", payload: "x", atMs: 7) }
        #expect(try journal.pendingCount() == 2)
    }

    @Test func pruningDropsOnlyOldEndedSessions() throws {
        let journal = try migratedInMemory().journal
        try journal.beginSession(Self.start)
        try journal.beginSession(SessionStart(id: "old", connectorId: 2, state: "Charging", startedAtMs: 10, meterStartWh: 0))
        try journal.appendMeterSample(SessionMeterSample(takenAtMs: 20, energyWh: 5), toSession: "old")
        try journal.endSession("old", stopReason: "Local", meterStopWh: 5, atMs: 30)
        #expect(try journal.pruneEndedSessions(endedBeforeMs: 10_000) == 1)
        #expect(try journal.session("old") == nil)
        #expect(try journal.meterSamples(ofSession: "old").isEmpty)
        #expect(try journal.openSessions().map(\.id) == ["s1"])
    }

    @Test func aSessionThatStillOwesTheCSMSAMessageIsNotPruned() throws {
        let journal = try migratedInMemory().journal
        for id in ["acked", "owing"] {
            try journal.atomically { w in
                _ = try w.beginSession(SessionStart(id: id, connectorId: 1, state: "Charging", startedAtMs: 10, meterStartWh: 0))
                try w.endSession(id, stopReason: "Local", meterStopWh: 5, atMs: 30)
                _ = try w.enqueue(kind: "StopTransaction", payload: "{}", sessionId: id, atMs: 30)
            }
        }
        let acked = try #require(try journal.pending(limit: 10).first { $0.sessionId == "acked" })
        #expect(try journal.acknowledge(acked.seq))
        #expect(try journal.pruneEndedSessions(endedBeforeMs: 10_000) == 1)
        #expect(try journal.session("acked") == nil)
        #expect(try journal.session("owing") != nil, "its StopTransaction is still queued")
        #expect(try journal.pendingCount() == 1)
    }
}

@Suite struct SecurityEventLogTests {
    @Test func keepsTheNewestUpToCapacity() throws {
        let storage = try migratedInMemory()
        let log = try SecurityEventLog(database: storage.database, capacity: 2)
        try log.append(kind: "StartupOfTheDevice", atMs: 1)
        try log.append(kind: "SettingSystemTime", detail: "NTP", atMs: 2)
        try log.append(kind: "ResetOrReboot", atMs: 3)
        #expect(try log.recent(limit: 10).map(\.kind) == ["ResetOrReboot", "SettingSystemTime"])
        #expect(try log.recent(limit: 10).last?.detail == "NTP")
    }

    @Test func eventsToNotifyStayOwedUntilMarkedAcrossReopen() throws {
        let dir = try TemporaryDirectory()
        do {
            let storage = try StationStorage(dataDirectory: dir.path)
            try storage.securityLog.append(kind: "StartupOfTheDevice", atMs: 1, notify: true)
            try storage.securityLog.append(kind: "InvalidMessages", atMs: 2)  // logged only
            let reset = try storage.securityLog.append(kind: "ResetOrReboot", detail: "soft", atMs: 3, notify: true)
            #expect(try storage.securityLog.owed(limit: 10).map(\.kind) == ["StartupOfTheDevice", "ResetOrReboot"])
            #expect(try storage.securityLog.markNotified(reset, atMs: 4))
            #expect(try storage.securityLog.markNotified(reset, atMs: 5) == false)
            storage.database.close()
        }
        // A restart (power cut): what was owed still is, what was delivered is not sent again.
        let reopened = try StationStorage(dataDirectory: dir.path)
        #expect(try reopened.securityLog.owed(limit: 10).map(\.kind) == ["StartupOfTheDevice"])
        #expect(try reopened.securityLog.owedCount() == 1)
        #expect(try reopened.securityLog.recent(limit: 1).first?.notifiedAtMs == 4)
    }
}

@Suite struct QueueBySessionTests {
    @Test func sessionsWithAPendingMessageOfAKind() throws {
        let journal = try migratedInMemory().journal
        try journal.enqueue(kind: "StartTransaction", payload: "{}", sessionId: "a", atMs: 1)
        try journal.enqueue(kind: "MeterValues", payload: "{}", sessionId: "b", atMs: 2)
        let seq = try journal.enqueue(kind: "StartTransaction", payload: "{}", sessionId: "c", atMs: 3)
        try journal.enqueue(kind: "StartTransaction", payload: "{}", atMs: 4)
        #expect(try journal.sessionsWithPending(kind: "StartTransaction") == ["a", "c"])
        try journal.acknowledge(seq)
        #expect(try journal.sessionsWithPending(kind: "StartTransaction") == ["a"])
        #expect(try journal.sessionsWithPending(kind: "StopTransaction") == [])
    }
}

@Suite struct TransactionDataTests {
    @Test func keptPerSessionInOrderNewestWithinTheLimitAndRefusedAfterTheEnd() throws {
        let storage = try migratedInMemory()
        let journal = storage.journal
        try journal.beginSession(SessionStart(id: "a", connectorId: 1, state: "Charging", startedAtMs: 0, meterStartWh: 0))
        try journal.beginSession(SessionStart(id: "b", connectorId: 2, state: "Charging", startedAtMs: 0, meterStartWh: 0))
        let limit = SessionJournal.Writer.transactionDataLimit
        for i in 0..<(limit + 3) { try journal.appendTransactionData("a\(i)", atMs: Int64(i), toSession: "a") }
        try journal.appendTransactionData("b0", atMs: 1, toSession: "b")
        let kept = try journal.transactionData(ofSession: "a")
        #expect(kept.count == limit)
        #expect(kept.first == "a3")
        #expect(kept.last == "a\(limit + 2)")
        #expect(try journal.transactionData(ofSession: "b") == ["b0"])

        try journal.endSession("b", stopReason: "Local", meterStopWh: 1, atMs: 10)
        #expect(throws: StorageError.sessionAlreadyEnded("b")) {
            try journal.appendTransactionData("late", atMs: 11, toSession: "b")
        }
        #expect(try journal.transactionData(ofSession: "b") == ["b0"])
        // Pruning the session takes its values with it.
        try journal.pruneEndedSessions(endedBeforeMs: 100)
        #expect(try journal.transactionData(ofSession: "b") == [])
    }
}
