import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import Storage
import Testing

/// 2026-01-01 at `hour:minute:second` UTC, in unix ms.
private func newYear(_ hour: UInt64, _ minute: UInt64, _ second: UInt64) -> UInt64 {
    1_767_225_600_000 + ((hour * 60 + minute) * 60 + second) * 1_000
}

private func accepted(_ h: Harness) async throws {
    await h.chargePoint.start()
    h.chargePoint.connectionUp()
    #expect(await settle { await h.chargePoint.registration == .accepted })
    #expect(await settle { h.csms.payloads("StatusNotification").count == 3 })
}

private func configure(_ h: Harness, _ key: String, _ value: String) async throws -> String? {
    let answer = try await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": .string(key), "value": .string(value)]).get()
    return answer["status"]?.stringValue
}

@Suite("OCPP 1.6 metering: clock-aligned values and StopTxn data")
struct MeteringTests {
    @Test func clockAlignedValuesComeAtEveryBoundaryCountedFromMidnight() async throws {
        let h = try Harness()
        try await accepted(h)
        #expect(try await configure(h, "MeterValueSampleInterval", "0") == "Accepted")
        #expect(try await configure(h, "ClockAlignedDataInterval", "900") == "Accepted")
        let session = try h.beginSession("s1")
        try h.sessionStarted(session)
        #expect(await settle { h.csms.payloads("StartTransaction").count == 1 })
        h.station.update(1) { $0.session = session; $0.energyWh = 2_000 }
        h.station.update(2) { $0.energyWh = 42 }

        h.clock.set(newYear(10, 14, 58))
        await h.chargePoint.meteringTick()  // learns where the clock is: no boundary crossed
        h.clock.set(newYear(10, 14, 59))
        await h.chargePoint.meteringTick()
        #expect(h.csms.payloads("MeterValues").isEmpty)
        h.clock.set(newYear(10, 15, 0))
        await h.chargePoint.meteringTick()
        #expect(await settle { h.csms.payloads("MeterValues").count == 2 })
        let values = try h.csms.payloads("MeterValues").map { try MeterValuesRequest(json: $0) }
        let charging = try #require(values.first { $0.connectorId == 1 })
        let idle = try #require(values.first { $0.connectorId == 2 })
        #expect(charging.transactionId == 101, "queued with its transaction")
        #expect(idle.transactionId == nil, "no transaction: sent as is")
        for v in values {
            #expect(v.meterValue[0].timestamp == "2026-01-01T10:15:00.000Z", "the boundary's time, not the tick's")
            #expect(v.meterValue[0].sampledValue[0].context == .sampleClock)
            #expect(v.meterValue[0].sampledValue[0].measurand == .energyActiveImportRegister)
        }
        #expect(idle.meterValue[0].sampledValue[0].value == "42")

        // Nothing between boundaries; the next one at :30.
        h.clock.set(newYear(10, 29, 59))
        await h.chargePoint.meteringTick()
        h.clock.set(newYear(10, 30, 0))
        await h.chargePoint.meteringTick()
        #expect(await settle { h.csms.payloads("MeterValues").count == 4 })
        #expect(try MeterValuesRequest(json: h.csms.payloads("MeterValues")[3]).meterValue[0].timestamp == "2026-01-01T10:30:00.000Z")
    }

    @Test func aClockSetBackwardsIsNotABoundaryAndAJumpReportsTheLatestOnce() {
        var schedule = MeteringSchedule()
        func aligned(_ unixMs: UInt64) -> UInt64? {
            schedule.tick(sampleInterval: 0, alignedInterval: 900, unixMs: unixMs).alignedAtUnixMs
        }
        #expect(aligned(newYear(10, 16, 0)) == nil)
        #expect(aligned(newYear(10, 14, 0)) == nil)
        #expect(aligned(newYear(10, 15, 0)) == newYear(10, 15, 0))
        #expect(aligned(newYear(11, 2, 3)) == newYear(11, 0, 0))
        #expect(aligned(newYear(11, 2, 4)) == nil)
        #expect(aligned(newYear(23, 59, 59)) == newYear(23, 45, 0))
        #expect(aligned(newYear(24, 0, 0)) == newYear(24, 0, 0), "midnight of the next day")
    }

    @Test func sampledValuesFallDueEveryIntervalAndAChangedIntervalAppliesAtOnce() {
        var schedule = MeteringSchedule()
        let due = (1...6).map { _ in schedule.tick(sampleInterval: 3, alignedInterval: 0, unixMs: 0).sampled }
        #expect(due == [false, false, true, false, false, true])
        #expect(schedule.tick(sampleInterval: 1, alignedInterval: 0, unixMs: 0).sampled)
        #expect(schedule.tick(sampleInterval: 0, alignedInterval: 0, unixMs: 0).sampled == false, "0 turns sampling off")
    }

    @Test func theScheduleSaysHowLongNothingCanBeDue() {
        var schedule = MeteringSchedule()
        let longest = MeteringSchedule.longestSleepSeconds
        #expect(schedule.secondsUntilDue(sampleInterval: 0, alignedInterval: 0, unixMs: 0) == longest, "nothing configured")
        #expect(schedule.secondsUntilDue(sampleInterval: 5, alignedInterval: 0, unixMs: 0) == 5)
        _ = schedule.tick(seconds: 2, sampleInterval: 5, alignedInterval: 0, unixMs: 0)
        #expect(schedule.secondsUntilDue(sampleInterval: 5, alignedInterval: 0, unixMs: 0) == 3)
        #expect(schedule.tick(seconds: 3, sampleInterval: 5, alignedInterval: 0, unixMs: 0).sampled)
        // Aligned: first a tick that learns where the clock is, then until the next boundary.
        #expect(schedule.secondsUntilDue(sampleInterval: 0, alignedInterval: 900, unixMs: newYear(10, 14, 0)) == 1)
        _ = schedule.tick(sampleInterval: 0, alignedInterval: 900, unixMs: newYear(10, 14, 0))
        #expect(schedule.secondsUntilDue(sampleInterval: 0, alignedInterval: 900, unixMs: newYear(10, 14, 0)) == 60)
        #expect(schedule.secondsUntilDue(sampleInterval: 0, alignedInterval: 900, unixMs: newYear(10, 14, 58) + 700) == 2)
        #expect(schedule.secondsUntilDue(sampleInterval: 0, alignedInterval: 7, unixMs: newYear(23, 59, 58)) == 2,
                "a day that is no whole number of intervals ends at midnight")
        #expect(schedule.secondsUntilDue(sampleInterval: 30, alignedInterval: 900, unixMs: newYear(10, 0, 0),
                                         otherDueInSeconds: 4) == 4, "a price trigger's time")
        #expect(schedule.secondsUntilDue(sampleInterval: 0, alignedInterval: 0, unixMs: 0, otherDueInSeconds: 0) == 1)
    }

    @Test func meteringSleepsUntilSomethingIsDueAndAChangedIntervalRestartsTheSleep() async throws {
        let h = try Harness()
        try await accepted(h)
        #expect(try await configure(h, "ClockAlignedDataInterval", "0") == "Accepted")
        #expect(try await configure(h, "MeterValueSampleInterval", "0") == "Accepted")
        let minute = EVSEDuration.seconds(Int64(MeteringSchedule.longestSleepSeconds))
        #expect(await settle { h.sleeper.requested.contains(minute) }, "nothing configured: a minute, not a second")
        #expect(try await configure(h, "MeterValueSampleInterval", "7") == "Accepted")
        let seven = EVSEDuration.seconds(Int64(7))
        #expect(await settle { h.sleeper.requested.contains(seven) }, "restarted with the new interval")
        let session = try h.beginSession("s1", meterStartWh: 1_000)
        try h.sessionStarted(session)
        h.station.update(1) { $0.session = session; $0.energyWh = 1_050 }
        h.sleeper.release(minute)
        for _ in 0..<200 { await Task.yield() }
        #expect(h.csms.payloads("MeterValues").isEmpty, "the minute's sleep ended a cancelled task")
        h.sleeper.release(seven)
        #expect(await settle { h.csms.payloads("MeterValues").count == 1 }, "sampled after the 7 s")
    }

    @Test func stopTransactionCarriesTheKeptValuesBetweenBeginAndEndAcrossARestart() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let before = try Harness(storage: storage)
        try await accepted(before)
        #expect(try await configure(before, "StopTxnSampledData", "Energy.Active.Import.Register,Current.Import") == "Accepted")
        #expect(try await configure(before, "StopTxnAlignedData", "Energy.Active.Import.Register") == "Accepted")
        #expect(try await configure(before, "MeterValueSampleInterval", "2") == "Accepted")
        #expect(try await configure(before, "ClockAlignedDataInterval", "3600") == "Accepted")
        var session = try before.beginSession("s1", meterStartWh: 1_000)
        try before.sessionStarted(session)
        #expect(await settle { (try? storage.journal.session("s1")?.transactionId) == "101" })
        before.station.update(1) { $0.session = session; $0.energyWh = 1_100; $0.currentsA = [10, 11, 12] }
        before.clock.set(newYear(0, 59, 58))
        await before.chargePoint.meteringTick()
        before.clock.set(newYear(0, 59, 59))
        await before.chargePoint.meteringTick()  // sampled
        before.clock.set(newYear(1, 0, 0))
        await before.chargePoint.meteringTick()  // aligned
        #expect(try storage.journal.transactionData(ofSession: "s1").count == 2, "kept on disk while the session runs")
        await before.chargePoint.stop()

        // The daemon restarts; the session ends later.
        let after = try Harness(storage: storage)
        try await accepted(after)
        session.stopReason = .local
        session.meterStopWh = 1_200
        session.stoppedAtUnixMs = newYear(1, 30, 0)
        try after.sessionEnded(session)
        #expect(await settle { after.csms.payloads("StopTransaction").count == 1 })
        let stop = try StopTransactionRequest(json: after.csms.payloads("StopTransaction")[0])
        #expect(stop.transactionId == 101)
        let data = try #require(stop.transactionData)
        #expect(data.map { $0.sampledValue[0].context } == [.transactionBegin, .samplePeriodic, .sampleClock, .transactionEnd])
        #expect(data.map { $0.sampledValue[0].value } == ["1000", "1100", "1100", "1200"])
        #expect(data.first?.timestamp == "2026-01-01T00:00:00.000Z")
        #expect(data.last?.timestamp == "2026-01-01T01:30:00.000Z")
        let periodic = data[1].sampledValue
        #expect(periodic.filter { $0.measurand == .currentImport }.map(\.phase) == [.l1, .l2, .l3])
        #expect(data[2].timestamp == "2026-01-01T01:00:00.000Z")
    }

    @Test func withoutStopTxnKeysTheStopHasNoTransactionData() async throws {
        let h = try Harness()
        try await accepted(h)
        var session = try h.beginSession("s1")
        try h.sessionStarted(session)
        h.station.update(1) { $0.session = session; $0.energyWh = 1_050 }
        await h.chargePoint.sampleMeterValuesForTesting()
        session.stopReason = .local
        session.meterStopWh = 1_060
        try h.sessionEnded(session)
        #expect(await settle { h.csms.payloads("StopTransaction").count == 1 })
        #expect(h.csms.payloads("StopTransaction")[0]["transactionData"] == nil)
        #expect(try h.storage.journal.transactionData(ofSession: "s1").isEmpty)
    }
}

@Suite("OCPP 1.6 StatusNotification and configuration keys")
struct StatusAndKeyTests {
    @Test func aStatusIsReportedOnlyOnceItHeldForMinimumStatusDuration() async throws {
        let h = try Harness()
        try await accepted(h)
        #expect(try await configure(h, "MinimumStatusDuration", "5") == "Accepted")
        let five = EVSEDuration.seconds(Int64(5))
        // A plug-in undone within 5 s: the CSMS still believes Available, which is true again.
        h.chargePoint.stationEvent(.statusChanged(connectorId: 1, .preparing, nil, atUnixMs: 0))
        h.chargePoint.stationEvent(.statusChanged(connectorId: 1, .available, nil, atUnixMs: 0))
        #expect(await settle { h.sleeper.requested.filter { $0 == five }.count == 2 })
        h.sleeper.release(five)
        // A status that holds is reported once, after the 5 s.
        h.chargePoint.stationEvent(.statusChanged(connectorId: 2, .preparing, nil, atUnixMs: 1_000))
        #expect(await settle { h.sleeper.requested.contains(five) })
        #expect(h.csms.payloads("StatusNotification").count == 3, "nothing before it held")
        h.sleeper.release(five)
        #expect(await settle { h.csms.payloads("StatusNotification").count == 4 })
        let last = h.csms.payloads("StatusNotification")[3]
        #expect(last["connectorId"] == 2)
        #expect(last["status"] == "Preparing")
        #expect(last["timestamp"] == "1970-01-01T00:00:01.000Z", "the time of the change")
    }

    @Test func withoutMinimumStatusDurationEveryChangeIsReported() async throws {
        let h = try Harness()
        try await accepted(h)
        h.chargePoint.stationEvent(.statusChanged(connectorId: 1, .preparing, nil, atUnixMs: 0))
        h.chargePoint.stationEvent(.statusChanged(connectorId: 1, .available, nil, atUnixMs: 0))
        #expect(await settle { h.csms.payloads("StatusNotification").count == 5 })
        #expect(h.csms.payloads("StatusNotification").suffix(2).map { $0["status"] } == ["Preparing", "Available"])
    }

    @Test func changeAvailabilityOfConnectorZeroReportsConnectorZeroOnceEachWay() async throws {
        let h = try Harness()
        try await accepted(h)
        func reported(after n: Int) -> [String] {
            h.csms.payloads("StatusNotification").dropFirst(n).map { p in
                "\(p["connectorId"]?.int64Value ?? -1):\(p["status"]?.stringValue ?? "?")"
            }
        }
        let change = ["connectorId": 0, "type": "Inoperative"] as JSONValue
        #expect(try await h.chargePoint.handle(action: "ChangeAvailability", payload: change).get()["status"] == "Accepted")
        // The station makes each connector Unavailable and says so, one after the other.
        for id in [1, 2] {
            h.station.update(id) { $0.status = .unavailable }
            h.chargePoint.stationEvent(.statusChanged(connectorId: id, .unavailable, nil, atUnixMs: 1_000))
        }
        #expect(await settle { h.csms.payloads("StatusNotification").count == 6 })
        #expect(reported(after: 3) == ["1:Unavailable", "2:Unavailable", "0:Unavailable"])
        #expect(h.csms.payloads("StatusNotification").last?["timestamp"] == "1970-01-01T00:00:01.000Z")
        // What a report after boot (here: a trigger) says of connector 0 is the same.
        #expect(try await h.chargePoint.handle(action: "TriggerMessage", payload: ["requestedMessage": "StatusNotification", "connectorId": 0]).get()["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("StatusNotification").count == 7 })
        #expect(reported(after: 6) == ["0:Unavailable"])

        let back = ["connectorId": 0, "type": "Operative"] as JSONValue
        #expect(try await h.chargePoint.handle(action: "ChangeAvailability", payload: back).get()["status"] == "Accepted")
        for id in [1, 2] {
            h.station.update(id) { $0.status = .available }
            h.chargePoint.stationEvent(.statusChanged(connectorId: id, .available, nil, atUnixMs: 2_000))
        }
        #expect(await settle { h.csms.payloads("StatusNotification").count == 10 })
        #expect(reported(after: 7) == ["1:Available", "0:Available", "2:Available"])
        // Once each way: nothing more for connector 0.
        h.chargePoint.stationEvent(.statusChanged(connectorId: 1, .preparing, nil, atUnixMs: 3_000))
        #expect(await settle { h.csms.payloads("StatusNotification").count == 11 })
        #expect(reported(after: 10) == ["1:Preparing"])
    }

    @Test func phaseRotationIsValidatedPerConnector() async throws {
        let h = try Harness()
        try await accepted(h)
        #expect(try await configure(h, "ConnectorPhaseRotation", "0.RST,1.RTS,2.TSR") == "Accepted")
        #expect(try await configure(h, "ConnectorPhaseRotation", "3.RST") == "Rejected", "no connector 3")
        #expect(try await configure(h, "ConnectorPhaseRotation", "1.XYZ") == "Rejected")
        #expect(try await configure(h, "ConnectorPhaseRotation", "1.RST,1.RTS") == "Rejected")
        #expect(try await configure(h, "ConnectorPhaseRotation", "RST") == "Rejected")
        let read = try await h.chargePoint.handle(action: "GetConfiguration", payload: ["key": ["ConnectorPhaseRotation"]]).get()
        let value = try GetConfigurationResponse(json: read).configurationKey?.first?.value
        #expect(value == "0.RST,1.RTS,2.TSR", "a refused value changes nothing")
    }

    @Test func errataAndWhitepaperKeysAreListedAndUnsupportedOptionalOnesAreNot() async throws {
        let h = try Harness()
        try await accepted(h)
        let response = try GetConfigurationResponse(json: try await h.chargePoint.handle(action: "GetConfiguration", payload: [:]).get())
        var values: [String: (Bool, String?)] = [:]
        for k in response.configurationKey ?? [] { values[k.key] = (k.readonly, k.value) }
        #expect(values["MinimumStatusDuration"]?.1 == "0")
        #expect(values["MinimumStatusDuration"]?.0 == false)
        #expect(values["ConnectorPhaseRotationMaxLength"]?.1 == "3")
        #expect(values["SupportedFeatureProfilesMaxLength"]?.0 == true)
        #expect(values["CertificateStoreMaxLength"]?.1 == "20")
        #expect(values["CertificateSignedMaxChainSize"]?.1 == "10000")
        #expect(values["AdditionalRootCertificateCheck"]?.1 == "false")
        #expect(values["ConnectorSwitch3to1PhaseSupported"]?.1 == "false")
        #expect(values["AuthorizationKey"] == nil, "write-only")
        for optional in ["BlinkRepeat", "LightIntensity"] {
            #expect(values[optional] == nil)
            #expect(try await configure(h, optional, "1") == "NotSupported")
        }
        // Supported: what a refused transaction may still draw (RefusedStartTests).
        #expect(values["MaxEnergyOnInvalidId"]?.1 == "0" && values["MaxEnergyOnInvalidId"]?.0 == false)
        #expect(try await configure(h, "MaxEnergyOnInvalidId", "-5") == "Rejected")
        #expect(try await configure(h, "MaxEnergyOnInvalidId", "500") == "Accepted")
        #expect(try await configure(h, "CertificateStoreMaxLength", "5") == "Rejected", "read-only")
    }
}

@Suite("OCPP 1.6 transaction outbox: the safety kick")
struct OutboxSafetyKickTests {
    /// The outbox's once-a-second kick reads SQLite only when something may be queued: never
    /// while the queue is known empty, always after a write (which may have queued a message).
    @Test func theQueueIsLookedAtAgainOnlyAfterAWrite() throws {
        let storage = try StationStorage(database: Database.inMemory())
        let transactions = TransactionService(journal: storage.journal)
        #expect(transactions.mayHaveQueuedMessages, "not looked at yet")
        #expect(transactions.next() == .empty)
        #expect(!transactions.mayHaveQueuedMessages, "found empty, nothing written since")
        try storage.journal.enqueue(kind: "StartTransaction", payload: #"{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"2026-01-01T00:00:00Z"}"#,
                                    atMs: 1_000)
        #expect(transactions.mayHaveQueuedMessages)
        guard case let .send(seq, kind, _, _) = transactions.next() else {
            Issue.record("the StartTransaction is next")
            return
        }
        #expect(kind == .start)
        #expect(transactions.mayHaveQueuedMessages, "a message is waiting")
        try transactions.acknowledge(seq)
        #expect(transactions.next() == .empty)
        #expect(!transactions.mayHaveQueuedMessages)
    }
}
