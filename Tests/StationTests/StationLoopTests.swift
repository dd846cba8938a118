import ChargingCore
import Drivers
import HAL
import HALFake
import Station
import Storage
import Locking
import Synchronization
import Testing

@Suite("Station loop on the fake backend")
struct StationLoopTests {
    @Test func wholeSessionIsStoredWithTheMeteredEnergy() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.view(1)?.status == .available)
        #expect(rig.pwm(1)?.dutyPercent == 100)

        #expect(rig.startCharging(1))
        let session = try #require(rig.view(1)?.session)
        #expect(session.idToken.value == "A1B2C3")
        #expect(session.meterStartWh == 1_000)
        #expect(rig.view(1)?.status == .charging)
        // The pilot offers the connector's 32 A (grid 50 A, one session).
        #expect(abs((rig.pwm(1)?.dutyPercent ?? 0) - 32 / 0.6) < 0.1)
        // The start is in the journal before the contactor closed.
        #expect(try rig.station.storage.journal.openSessions().map(\.id) == [session.id])

        rig.meter(1, addWh: 2_500, amps: 31)
        #expect(rig.coil(1))

        // EV → B: the step that reports B also opens the contactor.
        rig.setEV(1, .b)
        var opened = false
        for _ in 0..<20 {
            rig.step()
            if rig.view(1)?.pilot == .b {
                #expect(!rig.coil(1), "contactor still closed in the step that saw B")
                opened = true
                break
            }
        }
        #expect(opened)
        #expect(rig.view(1)?.status == .suspendedEV)

        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        let stored = try #require(try rig.station.storage.journal.session(session.id))
        #expect(stored.endedAtMs != nil)
        #expect(stored.stopReason == "EVDisconnected")
        #expect(stored.meterStartWh == 1_000)
        #expect(abs((stored.meterStopWh ?? 0) - 3_500) < 0.01)
        #expect(try rig.station.storage.journal.openSessions().isEmpty)
        // The EV's pause in B is in the journal as a suspension by the EV, closed at the end.
        let suspensions = try rig.station.storage.journal.suspensions(ofSession: session.id)
        #expect(suspensions.contains { $0.reason == "ev" })
        #expect(suspensions.allSatisfy { $0.endedAtMs != nil })
        #expect(try rig.station.storage.journal.meterSamples(ofSession: session.id).first?.energyWh == 1_000)
        #expect(rig.step(until: { rig.view(1)?.status == .available }) != nil)
    }

    @Test func firstOfferAfterBootIsNotHeldBack() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        rig.step(until: { rig.view(1)?.session != nil })
        // The offer comes with the session start (within a few steps), not 5 s later.
        #expect(rig.step(until: { (rig.pwm(1)?.dutyPercent ?? 100) < 100 }, limit: 5) != nil)
    }

    @Test func cardFirstThenPlugWithinTheConnectionTimeout() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.step()
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        rig.step()
        #expect(rig.view(1)?.status == .preparing)
        rig.clock.advance(by: .seconds(Int64(30)))
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil)
        #expect(rig.view(1)?.session?.idToken.value == "A1B2C3")
    }

    @Test func authorizationLapsesAfterTheConnectionTimeout() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.step()
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        rig.step()
        rig.clock.advance(by: .seconds(Int64(61)))  // the demo station waits 60 s
        rig.step()
        #expect(rig.view(1)?.status == .available)
        rig.plug(1)
        for _ in 0..<100 { rig.step() }
        #expect(rig.view(1)?.session == nil)
    }

    @Test func presentingTheSameCardAgainStopsTheSession() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 900)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session == nil }, limit: 4_000) != nil)
        #expect(!rig.coil(1))
        let stored = try #require(try rig.station.storage.journal.session(id))
        #expect(stored.stopReason == "Local")
        #expect(abs((stored.meterStopWh ?? 0) - 1_900) < 0.01)
        // The lock lets the cable go once the session is over.
        #expect(rig.step(until: { rig.fake.line(named: "c1.lock.drive")?.level == false }) != nil)
    }

    @Test func blockedAndUnknownCardsDoNotStartASession() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        for card in ["BADBAD", "0FF1CE"] {
            rig.station.presentCard(IdToken(card), at: rig.clock.now())
            for _ in 0..<50 { rig.step() }
            #expect(rig.view(1)?.session == nil)
        }
        rig.setEV(1, .c)
        for _ in 0..<100 { rig.step() }
        #expect(!rig.coil(1))
        #expect(rig.pwm(1)?.dutyPercent == 100)
    }

    @Test func demoCardsFollowTheStationFile() throws {
        let rig = try Rig()
        #expect(try rig.station.storage.localList.currentVersion() == 1)
        _ = try rig.restart()  // same file: the list is not rewritten
        #expect(try rig.station.storage.localList.currentVersion() == 1)
        var config = try StationConfig.load(path: Repo.demoStation)
        config.authorization.cards = [DemoCard(idToken: "C0FFEE", status: .accepted)]
        _ = try rig.restart(config: config)
        #expect(try rig.station.storage.localList.currentVersion() == 2)
        #expect(try rig.station.storage.localList.lookup("A1B2C3") == nil)
        #expect(try rig.station.storage.localList.lookup("C0FFEE")?.status == .accepted)
    }

    @Test func freeVendStartsOnPlugIn() throws {
        var config = try StationConfig.load(path: Repo.demoStation)
        config.authorization.mode = .freeVend
        let rig = try Rig(config: config)
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(2)
        rig.setEV(2, .c)
        #expect(rig.step(until: { rig.coil(2) }) != nil)
        #expect(rig.view(2)?.session?.startReason == .freeVend)
    }

    @Test func rcdTripOpensTheContactorInTheStepThatSeesIt() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let rcd = try #require(rig.fake.line(named: "c1.rcd"))
        rcd.drive(true, at: rig.clock.now())
        var checked = false
        for _ in 0..<50 {
            rig.step()
            if rig.view(1)?.status == .faulted {
                #expect(!rig.coil(1), "faulted but the contactor is still closed")
                checked = true
                break
            }
        }
        #expect(checked)
        #expect(rig.view(1)?.error == .groundFailure)
        // The session ended with GroundFault; the journal knows.
        let ended = try rig.station.storage.journal.recentSessions(limit: 1)
        #expect(ended.first?.stopReason == "GroundFault")
    }

    @Test func emergencyStopOpensEveryContactorAtOnce() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1, card: "A1B2C3"))
        #expect(rig.startCharging(2, card: "04A1B2C3"))
        // Two sessions share the 50 A grid connection: 25 A each.
        #expect(rig.view(1)?.allocatedAmps == 25)
        #expect(rig.view(2)?.allocatedAmps == 25)
        rig.fake.line(named: "estop")?.drive(true, at: rig.clock.now())
        var sawFault = false
        for _ in 0..<50 {
            rig.step()
            let faulted = [1, 2].map { rig.view($0)?.status == .faulted }
            if faulted.contains(true) {
                #expect(faulted == [true, true])
                #expect(!rig.coil(1) && !rig.coil(2))
                sawFault = true
                break
            }
        }
        #expect(sawFault)
        #expect(rig.view(1)?.error == .emergencyStop)
    }

    @Test func theStationsOwnSharingIsReportedAsALocalLimitAndItsEnd() throws {
        let rig = try Rig()
        let heard = Mutex<[(Int, Double?)]>([])
        rig.station.localLimitObserver = { id, amps in heard.locked { $0.append((id, amps)) } }
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1, card: "A1B2C3"))
        #expect(heard.locked { $0.isEmpty }, "one session gets its 32 A: nothing limits it")
        #expect(rig.startCharging(2, card: "04A1B2C3"))
        // Two sessions share the 50 A connection: 25 A each, below their own 32 A.
        #expect(rig.step(until: { heard.locked { h in h.contains { $0 == (1, 25) } && h.contains { $0 == (2, 25) } } }) != nil,
                "\(heard.locked { $0 })")
        let count = heard.locked { $0.count }
        for _ in 0..<100 { rig.step() }
        #expect(heard.locked { $0.count } == count, "reported on a change only")
        // Connector 2's session ends: connector 1 may have its 32 A again.
        rig.unplug(2)
        #expect(rig.step(until: { heard.locked { h in h.contains { $0.0 == 1 && $0.1 == nil } } }, limit: 20_000) != nil,
                "\(heard.locked { $0 })")
        #expect(heard.locked { h in h.contains { $0.0 == 2 && $0.1 == nil } }, "the ended session's limit ended too")
    }

    @Test func pilotShortOpensTheContactorInTheSameStep() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        rig.setEV(1, .e)
        var checked = false
        for _ in 0..<20 {
            rig.step()
            if rig.view(1)?.pilot == .e {
                #expect(!rig.coil(1))
                checked = true
                break
            }
        }
        #expect(checked)
    }

    @Test func noEnergyFlowsWhenTheSessionStartCannotBeJournaled() throws {
        var config = try StationConfig.load(path: Repo.demoStation)
        config.authorization.mode = .freeVend
        let rig = try Rig(config: config)
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.step()
        rig.station.storage.database.close()  // the disk is gone
        rig.plug(1)
        rig.setEV(1, .c)
        for _ in 0..<500 {
            rig.step()
            #expect(!rig.coil(1), "energy without a journaled session start")
            if rig.coil(1) { break }
        }
        #expect(rig.view(1)?.session == nil)
    }

    @Test func weldedContactorFaultsAndNeverClosesAgain() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        rig.welded.insert(1)
        rig.setEV(1, .b)
        #expect(rig.step(until: { rig.view(1)?.status == .faulted }, limit: 1_000) != nil)
        #expect(rig.view(1)?.error == .powerSwitchFailure)
        #expect(!rig.coil(1))
        // A new card and the EV asking again change nothing: a person must clear it.
        rig.setEV(1, .c)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        for _ in 0..<500 { rig.step() }
        #expect(!rig.coil(1))
        #expect(rig.view(1)?.status == .faulted)
    }

    @Test func aPilotThatCannotBeReadOpensTheContactorInTheSameStep() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        rig.fake.adcChannel(.named("c1.cp.high")).fail(with: HardwareError(.ioFailed, device: "c1.cp.high", "ADC gone"))
        rig.step()
        #expect(!rig.coil(1))
        #expect(rig.view(1)?.status == .faulted)
        #expect(rig.view(1)?.error == .pilotFault)
    }

    @Test func shutdownOpensContactorsAndKeepsTheSessionForTheNextStart() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 700)
        rig.station.shutdown(at: rig.clock.now())
        #expect(!rig.coil(1))
        #expect(rig.pwm(1)?.dutyPercent == 100)
        #expect(rig.station.isShutDown)
        let open = try rig.station.storage.journal.openSessions()
        #expect(open.map(\.id) == [id])
        // Nothing moves after shutdown.
        rig.step()
        #expect(!rig.coil(1))

        let report = try rig.restart()
        #expect(report.resumed == [id])
        #expect(rig.step(until: { rig.coil(1) }) != nil)
    }

    @Test func languageAndDisplayShowChargingOnTheHD44780() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        let lcd = try #require(rig.fake.i2cDevice(bus: "sim", address: 0x27))
        #expect(!lcd.written.isEmpty)
        lcd.clearWritten()
        #expect(rig.startCharging(1))
        for _ in 0..<200 { rig.step() }
        #expect(!lcd.written.isEmpty)
    }
}

@Suite("Station crash recovery")
struct StationRecoveryTests {
    @Test func resumesWhenTheEVIsStillPluggedAndEndsOnce() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 1_200, amps: 30)

        // Crash: no shutdown. Energy went on flowing while the daemon was dead.
        rig.energyWh[1, default: 0] += 300
        rig.clock.advance(by: .seconds(Int64(3)))
        let report = try rig.restart()
        #expect(report.resumed == [id])
        #expect(report.ended.isEmpty)
        #expect(rig.view(1)?.session?.id == id)
        #expect(rig.view(1)?.session?.meterStartWh == 1_000)
        // The contactor closes again once the conditions hold.
        #expect(rig.step(until: { rig.coil(1) }) != nil)

        rig.meter(1, addWh: 500)
        rig.setEV(1, .b)
        #expect(rig.step(until: { !rig.coil(1) }) != nil)
        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        let stored = try #require(try rig.station.storage.journal.session(id))
        #expect(abs((stored.meterStopWh ?? 0) - 3_000) < 0.01)
        #expect(stored.stopReason == "EVDisconnected")

        // Another restart finds nothing to recover and ends nothing twice.
        let again = try rig.restart()
        #expect(again == Station.RecoveryReport())
        #expect(try rig.station.storage.journal.recentSessions(limit: 10).count == 1)
    }

    @Test func endsWithTheRegisterNowWhenTheEVLeftDuringTheCrash() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 800)
        rig.energyWh[1, default: 0] += 150
        rig.unplug(1)
        let report = try rig.restart()
        #expect(report.ended == [id])
        let stored = try #require(try rig.station.storage.journal.session(id))
        #expect(stored.stopReason == "PowerLoss")
        #expect(abs((stored.meterStopWh ?? 0) - 1_950) < 0.01)
        #expect(rig.view(1)?.session == nil)
        #expect(!rig.coil(1))
        #expect(try rig.restart() == Station.RecoveryReport())
    }

    @Test func endPolicyEndsEvenWithTheEVPlugged() throws {
        var config = try StationConfig.load(path: Repo.demoStation)
        config.sessions.recovery = .end
        let rig = try Rig(config: config)
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 400)
        let report = try rig.restart(config: config)
        #expect(report.ended == [id])
        #expect(report.resumed.isEmpty)
        // The EV still asks for energy, but the session is over: no new one without a card.
        for _ in 0..<200 { rig.step() }
        #expect(!rig.coil(1))
        #expect(rig.view(1)?.session == nil)
        #expect(abs((try rig.station.storage.journal.session(id)?.meterStopWh ?? 0) - 1_400) < 0.01)
    }
}
