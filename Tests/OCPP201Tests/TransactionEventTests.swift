import ChargingCore
import HAL
@testable import OCPP201
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

@Suite("OCPP 2.0.1 transactions (E)")
struct TransactionEventTests {
    @Test func meteringSleepsUntilSomethingIsDueAndAChangedIntervalRestartsTheSleep() async throws {
        let h = try await Harness.accepted()
        let minute = EVSEDuration.seconds(Int64(60)), seven = EVSEDuration.seconds(Int64(7))
        #expect(await settle { h.sleeper.requested.contains(minute) }, "nothing configured: a minute, not a second")
        let session = try h.sessionStarted("tx-1", token: "CARD1")
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        var settings = await h.chargingStation.settings
        settings.sampledDataTxUpdatedInterval = 7
        settings.sampledDataTxUpdatedMeasurands = ["Energy.Active.Import.Register"]
        await h.chargingStation.apply(settings)
        #expect(await settle { h.sleeper.requested.contains(seven) }, "restarted with the new interval")
        h.station.update(1) { $0.energyWh = 1_250 }
        h.sleeper.release(minute)
        for _ in 0..<200 { await Task.yield() }
        #expect(h.csms.payloads("TransactionEvent").count == 1, "the minute's sleep ended a cancelled task")
        h.sleeper.release(seven)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 }, "Updated after the 7 s")
        #expect(h.csms.payloads("TransactionEvent")[1]["triggerReason"] == "MeterValuePeriodic")
        _ = session
    }

    @Test func startedUpdatedEndedWithIncreasingSeqNoAndTriggers() async throws {
        var settings = OCPP201Settings()
        settings.sampledDataTxUpdatedInterval = 2
        settings.sampledDataTxUpdatedMeasurands = ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import"]
        let h = try await Harness.accepted(settings: settings)
        let session = try h.sessionStarted("tx-1", token: "CARD1", cableMaxCurrentA: 20)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        h.station.update(1) { $0.energyWh = 1_250; $0.powerW = 7_000; $0.currentsA = [10, 10, 10] }
        h.clock.advance(seconds: 2)
        await h.chargingStation.meteringTick()
        await h.chargingStation.meteringTick()
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 })
        h.clock.advance(seconds: 60)
        try h.sessionEnded(session, reason: .evDisconnected, meterStopWh: 1_500)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 3 })
        let events = h.csms.payloads("TransactionEvent")
        #expect(events.map { $0["eventType"] } == ["Started", "Updated", "Ended"])
        #expect(events.map { $0["seqNo"] } == [.integer(0), .integer(1), .integer(2)])
        #expect(events.map { $0["triggerReason"] } == ["Authorized", "MeterValuePeriodic", "EVCommunicationLost"])
        #expect(events.allSatisfy { $0["transactionInfo"]?["transactionId"] == "tx-1" })
        #expect(events.allSatisfy { $0["offline"] == nil }, "queued while online")
        #expect(events[0]["idToken"]?["idToken"] == "CARD1")
        #expect(events[0]["idToken"]?["type"] == "ISO14443")
        #expect(events[0]["evse"]?["id"] == .integer(1))
        #expect(events[0]["cableMaxCurrent"] == .integer(20), "the cable's rating in the Started event")
        #expect(events[1]["cableMaxCurrent"] == nil && events[2]["cableMaxCurrent"] == nil)
        #expect(events[1]["numberOfPhasesUsed"] == .integer(3))
        #expect(events[1]["meterValue"]?.arrayValue?.first?["sampledValue"]?.arrayValue?.count == 5, "energy, power, 3 currents")
        #expect(events[2]["transactionInfo"]?["stoppedReason"] == "EVDisconnected")
        let ended = events[2]["meterValue"]?.arrayValue ?? []
        #expect(ended.map { $0["sampledValue"]?.arrayValue?.first?["context"] } == ["Transaction.Begin", "Transaction.End"])
        #expect(ended.last?["sampledValue"]?.arrayValue?.first?["value"]?.doubleValue == 1_500)
        #expect(await settle { h.chargingStation.transactions.pendingCount() == 0 }, "each answered event leaves the queue")
    }

    @Test func eventsQueuedOfflineCarryOfflineAndGoOutInOrderOnReconnect() async throws {
        let h = try await Harness.accepted()
        h.chargingStation.connectionDown()
        #expect(await settle { !h.chargingStation.isOnline })
        let session = try h.sessionStarted("tx-off")
        h.station.update(1) { $0.status = .suspendedEV }
        h.chargingStation.stationEvent(.statusChanged(connectorId: 1, .suspendedEV, nil, atUnixMs: h.clock.now()))
        #expect(await settle { h.chargingStation.transactions.pendingCount() == 2 }, "Started, and Updated for the change")
        try h.sessionEnded(session, reason: .local)
        #expect(await settle { h.chargingStation.transactions.pendingCount() == 3 })
        #expect(h.csms.payloads("TransactionEvent").isEmpty, "nothing goes out offline")
        h.chargingStation.connectionUp()
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 3 })
        let events = h.csms.payloads("TransactionEvent")
        try #require(events.count == 3)
        #expect(events.map { $0["eventType"] } == ["Started", "Updated", "Ended"])
        #expect(events.map { $0["seqNo"] } == [.integer(0), .integer(1), .integer(2)])
        #expect(events.allSatisfy { $0["offline"] == .bool(true) })
        #expect(events[1]["triggerReason"] == "ChargingStateChanged")
        #expect(events[1]["transactionInfo"]?["chargingState"] == "SuspendedEV")
        #expect(events[2]["triggerReason"] == "StopAuthorized")
    }

    @Test func theQueueOutlivesTheAdapterAndItsSeqNoCounterToo() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        // A first run queues a Started event, then dies before sending it.
        do {
            let first = OCPP201ChargingStation(identity: .init(vendor: "V", model: "M"), sender: FakeCSMS(), station: FakeStation(),
                                               storage: storage, unixMs: { 1_767_225_600_000 })
            let s = Session(id: "tx-k", connectorId: 1, idToken: IdToken("K"), startReason: .local, meterStartWh: 0,
                            startedAtUnixMs: 1_767_225_600_000)
            try storage.journal.atomically { w in
                _ = try w.beginSession(SessionStart(id: s.id, connectorId: 1, idToken: "K", state: "Charging",
                                                    startedAtMs: 1_767_225_600_000, meterStartWh: 0))
                try first.transactions.messagesOwed(for: .started(s), in: w)
            }
        }
        // The next run numbers on and delivers both, in order.
        let csms = FakeCSMS()
        let second = OCPP201ChargingStation(identity: .init(vendor: "V", model: "M"), sender: csms, station: FakeStation(),
                                            storage: storage, unixMs: { 1_767_225_700_000 })
        var s = Session(id: "tx-k", connectorId: 1, idToken: IdToken("K"), startReason: .local, meterStartWh: 0,
                        startedAtUnixMs: 1_767_225_600_000)
        s.end(reason: .powerLoss, meterStopWh: 10, atUnixMs: 1_767_225_650_000)
        try storage.journal.atomically { w in
            _ = try w.endSession(s.id, stopReason: "PowerLoss", meterStopWh: 10, atMs: 1_767_225_650_000)
            try second.transactions.messagesOwed(for: .ended(s), in: w)
        }
        await second.start()
        second.connectionUp()
        #expect(await settle { csms.payloads("TransactionEvent").count == 2 })
        #expect(csms.payloads("TransactionEvent").map { $0["seqNo"] } == [.integer(0), .integer(1)])
        #expect(csms.payloads("TransactionEvent").map { $0["offline"] } == [.bool(true), .bool(true)])
        #expect(csms.payloads("TransactionEvent")[1]["transactionInfo"]?["stoppedReason"] == "PowerLoss")
    }

    @Test func aFailingEventIsRetriedMessageAttemptsTimesThenGivenUp() async throws {
        var settings = OCPP201Settings()
        settings.messageAttempts = 2
        settings.messageAttemptInterval = 4
        let csms = FakeCSMS()
        let h = try await Harness.accepted(csms: csms, settings: settings)
        csms.setAnswer { action, payload in
            action == "TransactionEvent" ? .failure(.callError(code: .internalError, spelledCode: "InternalError", description: "", details: .object(JSONObject())))
                : FakeCSMS.acceptEverything()(action, payload)
        }
        _ = try h.sessionStarted("tx-r")
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(4))) }, "1 × MessageAttemptInterval after the first failure")
        h.sleeper.release(.seconds(Int64(4)))
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 && h.chargingStation.transactions.pendingCount() == 0 })
    }

    @Test func getTransactionStatusTellsOngoingAndQueued() async throws {
        let h = try Harness(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(boot: .pending, interval: 60)))
        await h.chargingStation.start()
        let session = try h.sessionStarted("tx-s")
        h.chargingStation.connectionUp()
        // Pending: the station answers but sends no TransactionEvent.
        #expect(await settle { await h.chargingStation.registration == .pending })
        let queued = try await h.chargingStation.handle(action: "GetTransactionStatus", payload: ["transactionId": "tx-s"]).get()
        #expect(queued["ongoingIndicator"] == .bool(true))
        #expect(queued["messagesInQueue"] == .bool(true))
        let unknown = try await h.chargingStation.handle(action: "GetTransactionStatus", payload: ["transactionId": "nope"]).get()
        #expect(unknown["ongoingIndicator"] == .bool(false))
        #expect(unknown["messagesInQueue"] == .bool(false))
        _ = session
    }

    @Test func aRefusedTokenInTheAnswerStopsTheTransactionUnderStopTxOnInvalidId() async throws {
        let csms = FakeCSMS()
        let h = try await Harness.accepted(csms: csms)
        csms.setAnswer { action, payload in
            guard action == "TransactionEvent" else { return FakeCSMS.acceptEverything()(action, payload) }
            return .success(TransactionEventResponse(idTokenInfo: IdTokenInfoType(status: .blocked)).toJSON())
        }
        _ = try h.sessionStarted("tx-b")
        #expect(await settle { h.station.commands.contains(.stopSession(connectorId: 1, sessionId: "tx-b", reason: .deAuthorized)) })
        #expect(h.station.requests.contains { if case .authorizationLearned(let t, let i) = $0 { return t.value == "CARD1" && i.status == .blocked }; return false })
    }

    @Test func transactionPointsOutsideWhatTheStationCanTellAreNamed() {
        #expect(OCPP201Settings.problem(withTransactionPoints: ["EVConnected", "Authorized"]) == nil)
        #expect(OCPP201Settings.problem(withTransactionPoints: ["PowerPathClosed", "EnergyTransfer"]) == nil)
        #expect(OCPP201Settings.problem(withTransactionPoints: ["ParkingBayOccupancy"])?.contains("not supported") == true)
        #expect(OCPP201Settings.problem(withTransactionPoints: ["DataSigned"])?.contains("not supported") == true)
        #expect(OCPP201Settings.problem(withTransactionPoints: ["Sunrise"])?.contains("not a TxStartPoint") == true)
    }
}

@Suite("OCPP 2.0.1 after OCPP 1.6 on the same data directory")
struct VersionSwitchTests {
    @Test func aSessionOpenedUnder16GetsItsStartedEventOnceAndThe16MessagesAreNotSent() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        // What 1.6 left: an open session and its StartTransaction still queued.
        try storage.journal.atomically { w in
            _ = try w.beginSession(SessionStart(id: "s-16", connectorId: 1, idToken: "CARD9", state: "Charging", startReason: "local",
                                                startedAtMs: 1_767_225_600_000, meterStartWh: 500))
            try w.enqueue(kind: "StartTransaction", payload: #"{"connectorId":1,"idTag":"CARD9","meterStart":500,"timestamp":"2026-01-01T00:00:00Z"}"#,
                          sessionId: "s-16", atMs: 1_767_225_600_000)
        }
        let csms = FakeCSMS()
        let station = OCPP201ChargingStation(identity: .init(vendor: "V", model: "M"), sender: csms, station: FakeStation(),
                                             storage: storage, unixMs: { 1_767_225_700_000 })
        station.transactions.reconcileWithJournal()
        station.transactions.reconcileWithJournal()  // a second start changes nothing
        await station.start()
        station.connectionUp()
        #expect(await settle { csms.payloads("TransactionEvent").count == 1 && station.transactions.pendingCount() == 0 })
        let started = csms.payloads("TransactionEvent")[0]
        #expect(started["eventType"] == "Started")
        #expect(started["seqNo"] == .integer(0))
        #expect(started["transactionInfo"]?["transactionId"] == "s-16")
        #expect(started["idToken"]?["idToken"] == "CARD9")
        #expect(!csms.actions.contains("StartTransaction"))
    }
}

@Suite("OCPP 2.0.1 TxStartPoint EnergyTransfer")
struct EnergyTransferStartTests {
    static func settings() -> OCPP201Settings {
        var s = OCPP201Settings()
        s.txStartPoint = ["EnergyTransfer"]
        return s
    }

    @Test func theTransactionBeginsWithTheFirstEnergyAndEndsWithTheSession() async throws {
        let h = try await Harness.accepted(settings: Self.settings())
        let session = try h.sessionStarted("tx-e", reason: .remote)
        h.station.update(1) { $0.status = .suspendedEV }
        h.chargingStation.stationEvent(.statusChanged(connectorId: 1, .suspendedEV, nil, atUnixMs: h.clock.now()))
        for _ in 0..<500 { await Task.yield() }
        #expect(h.csms.payloads("TransactionEvent").isEmpty, "no energy yet: no transaction")
        h.clock.advance(seconds: 30)
        h.station.update(1) { $0.status = .charging; $0.energyWh = 1_020 }
        h.chargingStation.stationEvent(.statusChanged(connectorId: 1, .charging, nil, atUnixMs: h.clock.now()))
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        let started = h.csms.payloads("TransactionEvent")[0]
        #expect(started["eventType"] == "Started")
        #expect(started["triggerReason"] == "ChargingStateChanged")
        #expect(started["seqNo"] == .integer(0))
        #expect(started["meterValue"]?.arrayValue?.first?["sampledValue"]?.arrayValue?.first?["value"]?.doubleValue == 1_020)
        try h.sessionEnded(session, reason: .remote)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 })
        #expect(h.csms.payloads("TransactionEvent")[1]["eventType"] == "Ended")
        #expect(h.csms.payloads("TransactionEvent")[1]["seqNo"] == .integer(1))
    }

    @Test func aSessionWithoutEnergyIsNoTransactionForTheCSMS() async throws {
        let h = try await Harness.accepted(settings: Self.settings())
        let session = try h.sessionStarted("tx-none")
        h.station.update(1) { $0.status = .suspendedEV }
        h.chargingStation.stationEvent(.statusChanged(connectorId: 1, .suspendedEV, nil, atUnixMs: h.clock.now()))
        try h.sessionEnded(session)
        for _ in 0..<1_000 { await Task.yield() }
        #expect(h.csms.payloads("TransactionEvent").isEmpty)
        #expect(h.chargingStation.transactions.pendingCount() == 0)
    }
}

@Suite("OCPP 2.0.1 transaction outbox: the safety kick")
struct OutboxSafetyKickTests {
    /// The outbox's once-a-second kick reads SQLite only when something may be queued.
    @Test func theQueueIsLookedAtAgainOnlyAfterAWrite() throws {
        let storage = try StationStorage(database: Database.inMemory())
        let transactions = TransactionEventService(journal: storage.journal)
        #expect(transactions.mayHaveQueuedMessages, "not looked at yet")
        #expect(transactions.next() == .empty)
        #expect(!transactions.mayHaveQueuedMessages, "found empty, nothing written since")
        try storage.journal.enqueue(kind: TransactionEventService.kind, payload: #"{"eventType":"Started"}"#, atMs: 1_000)
        #expect(transactions.mayHaveQueuedMessages, "a write may have queued a message")
        #expect(transactions.next() != .empty)
        #expect(transactions.mayHaveQueuedMessages, "a message is waiting")
    }
}

@Suite("OCPP 2.0.1 TxStartPoint EVConnected and Authorized")
struct EarlyTransactionStartTests {
    static func settings(_ points: Set<String>) -> OCPP201Settings {
        var s = OCPP201Settings()
        s.txStartPoint = points
        return s
    }

    static func events(_ h: Harness) -> [JSONValue] { h.csms.payloads("TransactionEvent") }

    @Test func pluggedInFirstBeginsTheTransactionAndTheCardContinuesIt() async throws {
        let h = try await Harness.accepted(settings: Self.settings(["EVConnected", "Authorized"]))
        try h.preludeBegan("tx-p", cause: .evConnected, meterWh: 1_000)
        #expect(await settle { Self.events(h).count == 1 })
        let started = Self.events(h)[0]
        #expect(started["eventType"] == "Started" && started["seqNo"] == .integer(0))
        #expect(started["triggerReason"] == "CablePluggedIn")
        #expect(started["transactionInfo"]?["transactionId"] == "tx-p")
        #expect(started["transactionInfo"]?["chargingState"] == "EVConnected")
        #expect(started["idToken"] == nil, "no token yet")
        #expect(started["meterValue"]?[0]?["sampledValue"]?[0]?["context"] == "Transaction.Begin")
        let status = try await h.chargingStation.handle(action: "GetTransactionStatus", payload: ["transactionId": "tx-p"]).get()
        #expect(status["ongoingIndicator"] == true, "the transaction runs before its session")

        h.clock.advance(seconds: 20)
        let session = try h.sessionStarted("tx-p", token: "CARD1", cableMaxCurrentA: 32, preludeCause: .evConnected)
        #expect(await settle { Self.events(h).count == 2 })
        let authorized = Self.events(h)[1]
        #expect(authorized["eventType"] == "Updated" && authorized["seqNo"] == .integer(1))
        #expect(authorized["triggerReason"] == "Authorized")
        #expect(authorized["transactionInfo"]?["transactionId"] == "tx-p")
        #expect(authorized["idToken"]?["idToken"] == "CARD1", "the token goes with the first event after it")
        #expect(authorized["cableMaxCurrent"] == .integer(32))
        try h.sessionEnded(session)
        #expect(await settle { Self.events(h).count == 3 })
        #expect(Self.events(h)[2]["eventType"] == "Ended" && Self.events(h)[2]["seqNo"] == .integer(2))
        #expect(Self.events(h)[2]["transactionInfo"]?["transactionId"] == "tx-p")
    }

    @Test func theEVLeavingBeforeATokenEndsTheTransactionEVDisconnected() async throws {
        let h = try await Harness.accepted(settings: Self.settings(["EVConnected"]))
        let p = try h.preludeBegan("tx-gone", cause: .evConnected)
        h.clock.advance(seconds: 5)
        try h.preludeEnded(p, reason: .evDisconnected)
        #expect(await settle { Self.events(h).count == 2 })
        let ended = Self.events(h)[1]
        #expect(ended["eventType"] == "Ended" && ended["seqNo"] == .integer(1))
        #expect(ended["triggerReason"] == "EVCommunicationLost")
        #expect(ended["transactionInfo"]?["stoppedReason"] == "EVDisconnected")
        #expect(ended["transactionInfo"]?["chargingState"] == "Idle")
        #expect(ended["transactionInfo"]?["timeSpentCharging"] == .integer(0))
        let status = try await h.chargingStation.handle(action: "GetTransactionStatus", payload: ["transactionId": "tx-gone"]).get()
        #expect(status["ongoingIndicator"] == false)
    }

    @Test func anAuthorizedTokenBeginsItAndItsTimeoutEndsIt() async throws {
        let h = try await Harness.accepted(settings: Self.settings(["Authorized"]))
        // A plug-in first begins nothing: only Authorized is a start point.
        let plugged = try h.preludeBegan("tx-plug", connector: 2, cause: .evConnected)
        try h.preludeEnded(plugged, reason: .evDisconnected)
        let answer = try await h.chargingStation.handle(action: "RequestStartTransaction", payload: [
            "idToken": ["idToken": "APP-3", "type": "Central"], "remoteStartId": 303, "evseId": 1]).get()
        #expect(answer["status"] == "Accepted")
        let p = try h.preludeBegan("tx-auth", cause: .authorized, token: IdToken("APP-3", kind: .central), reason: .remote)
        #expect(await settle { Self.events(h).count == 1 })
        let started = Self.events(h)[0]
        #expect(started["transactionInfo"]?["transactionId"] == "tx-auth", "the plug-in alone began no transaction")
        #expect(started["triggerReason"] == "RemoteStart")
        #expect(started["transactionInfo"]?["remoteStartId"] == .integer(303))
        #expect(started["transactionInfo"]?["chargingState"] == "Idle")
        #expect(started["idToken"]?["idToken"] == "APP-3")
        h.clock.advance(seconds: 60)
        try h.preludeEnded(p, reason: .timeout)
        #expect(await settle { Self.events(h).count == 2 })
        let ended = Self.events(h)[1]
        #expect(ended["triggerReason"] == "EVConnectTimeout")
        #expect(ended["transactionInfo"]?["stoppedReason"] == "Timeout")
        #expect(await settle { h.chargingStation.transactions.pendingCount() == 0 }, "both answered: nothing left queued")
    }

    @Test func theEVAfterTheTokenContinuesItCablePluggedIn() async throws {
        let h = try await Harness.accepted(settings: Self.settings(["Authorized", "EVConnected"]))
        try h.preludeBegan("tx-a", cause: .authorized, token: IdToken("CARD1"), reason: .local)
        let session = try h.sessionStarted("tx-a", token: "CARD1", preludeCause: .authorized)
        #expect(await settle { Self.events(h).count == 2 })
        #expect(Self.events(h)[0]["triggerReason"] == "Authorized")
        let plugged = Self.events(h)[1]
        #expect(plugged["eventType"] == "Updated" && plugged["triggerReason"] == "CablePluggedIn")
        #expect(plugged["idToken"] == nil, "the token went with the Started event")
        _ = session
    }

    @Test func requestStopEndsATransactionBegunBeforeItsSessionAndRequestStartNamesIt() async throws {
        let h = try await Harness.accepted(settings: Self.settings(["EVConnected"]))
        try h.preludeBegan("tx-early", cause: .evConnected)
        #expect(await settle { Self.events(h).count == 1 })
        let start = try await h.chargingStation.handle(action: "RequestStartTransaction", payload: [
            "idToken": ["idToken": "APP-1", "type": "Central"], "remoteStartId": 1, "evseId": 1]).get()
        #expect(start["transactionId"] == "tx-early", "the transaction that already runs there is named")
        let stop = try await h.chargingStation.handle(action: "RequestStopTransaction", payload: ["transactionId": "tx-early"]).get()
        #expect(stop["status"] == "Accepted")
        #expect(h.station.commands.contains(.stopSession(connectorId: 1, sessionId: "tx-early", reason: .remote)))
    }

    @Test func aResetCountsATransactionBegunBeforeItsSession() async throws {
        let h = try await Harness.accepted(settings: Self.settings(["EVConnected"]))
        try h.preludeBegan("tx-r", connector: 2, cause: .evConnected)
        #expect(await settle { Self.events(h).count == 1 })
        let onIdle = try await h.chargingStation.handle(action: "Reset", payload: ["type": "OnIdle"]).get()
        #expect(onIdle["status"] == "Scheduled", "a transaction runs on EVSE 2")
        let evse = try await h.chargingStation.handle(action: "Reset", payload: ["type": "Immediate", "evseId": 2]).get()
        #expect(evse["status"] == "Accepted")
        #expect(h.station.commands.contains(.stopSession(connectorId: 2, sessionId: "tx-r", reason: .hardReset)))
        // A prelude whose transaction did not begin (the start point was PowerPathClosed) is no transaction.
        let quiet = try await Harness.accepted()
        try quiet.preludeBegan("not-a-tx", connector: 1, cause: .evConnected)
        let idle = try await quiet.chargingStation.handle(action: "Reset", payload: ["type": "Immediate", "evseId": 1]).get()
        #expect(idle["status"] == "Accepted")
        #expect(!quiet.station.commands.contains { if case .stopSession = $0 { return true } else { return false } })
    }

    @Test func thePowerPathClosedDefaultBeginsNothingWithThePrelude() async throws {
        let h = try await Harness.accepted()
        try h.preludeBegan("tx-d", cause: .evConnected)
        let session = try h.sessionStarted("tx-d", token: "CARD1", preludeCause: .evConnected)
        #expect(await settle { Self.events(h).count == 1 })
        #expect(Self.events(h)[0]["eventType"] == "Started" && Self.events(h)[0]["triggerReason"] == "Authorized")
        #expect(Self.events(h)[0]["seqNo"] == .integer(0))
        _ = session
    }
}

@Suite("OCPP 2.0.1 TxStopPoint")
struct TransactionStopPointTests {
    @Test func powerPathClosedOrEVConnectedEndTheTransactionWithTheEVWhateverStopTxOnEVSideDisconnectSays() {
        var s = OCPP201Settings()
        s.stopTxOnEVSideDisconnect = false
        s.txStopPoint = ["Authorized"]
        #expect(!s.sessionRules.stopOnEVSideDisconnect, "StopTxOnEVSideDisconnect decides: the transaction goes on, suspended")
        s.txStopPoint = ["PowerPathClosed"]
        #expect(s.sessionRules.stopOnEVSideDisconnect)
        s.txStopPoint = ["EVConnected"]
        #expect(s.sessionRules.stopOnEVSideDisconnect)
    }

    @Test func energyTransferEndsTheTransactionWhenTheEVStopsDrawingNotWhenTheStationWithholds() async throws {
        var settings = OCPP201Settings()
        settings.txStopPoint = ["EnergyTransfer"]
        let h = try await Harness.accepted(settings: settings)
        let session = try h.sessionStarted("tx-et")
        func status(_ s: ConnectorStatus) {
            h.station.update(1) { $0.status = s }
            h.chargingStation.stationEvent(.statusChanged(connectorId: 1, s, nil, atUnixMs: h.clock.now()))
        }
        status(.charging)
        status(.suspendedEVSE)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 3 })
        #expect(!h.station.commands.contains { if case .stopSession = $0 { return true } else { return false } },
                "the station withholding energy suspends, it does not end")
        status(.charging)
        status(.suspendedEV)
        #expect(await settle { h.station.commands.contains(.stopSession(connectorId: 1, sessionId: "tx-et", reason: .stoppedByEV)) })
        try h.sessionEnded(session, reason: .stoppedByEV)
        #expect(await settle { h.csms.payloads("TransactionEvent").last?["eventType"] == "Ended" })
        let ended = try #require(h.csms.payloads("TransactionEvent").last)
        #expect(ended["transactionInfo"]?["stoppedReason"] == "StoppedByEV")
        #expect(ended["triggerReason"] == "ChargingStateChanged")
    }
}
