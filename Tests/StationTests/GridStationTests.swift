import BoardDescription
import ChargingCore
import Drivers
import HAL
import HALFake
import Station
import Testing

/// Energy management in the station, on the fake backend with the virtual clock: the sim board
/// with its grid meter (fuse 50 A, margin 2 A, fallback 8 A). The test reads the meters where
/// the daemon's pollers would (`readMetersNow`, once per simulated second).
@Suite("Station: energy management against the grid meter")
struct GridStationTests {
    func rig(_ configure: (inout StationConfig) -> Void = { _ in }) throws -> Rig {
        var config = try StationConfig.load(path: Repo.demoStation)
        configure(&config)
        let rig = try Rig(config: config, board: Rig.simBoard(gridMeter: true))
        try rig.station.start(at: rig.clock.now())
        return rig
    }

    /// The current the pilot offers now (IEC 61851-1: duty × 0.6 A between 10 and 85 %), 0 without PWM.
    func offered(_ rig: Rig, _ id: Int) -> Double {
        guard let p = rig.pwm(id), p.enabled, p.dutyPercent < 100, p.dutyPercent > 0 else { return 0 }
        return (p.dutyPercent * 0.6 * 10).rounded() / 10
    }

    /// One simulated second: the meters are read once (the EVs draw what is offered), 500 steps.
    func second(_ rig: Rig) {
        for id in [1, 2] where rig.coil(id) { rig.currents[id] = offered(rig, id) }
        for id in [1, 2] where !rig.coil(id) { rig.currents[id] = 0 }
        rig.writeMeters()
        rig.station.readMetersNow(at: rig.clock.now())
        for _ in 0..<500 { rig.step() }
    }

    @Test func aHouseLoadStepCutsThePWMWithinTwoSeconds() throws {
        let rig = try rig()
        #expect(rig.startCharging(1))
        for _ in 0..<3 { second(rig) }
        #expect(offered(rig, 1) == 32)
        // 40 A per phase switch on; the next poll (within a second) sees them.
        rig.houseAmps = [40, 40, 40]
        let stepAt = rig.clock.now()
        var cutAt: MonotonicInstant?
        for _ in 0..<3 where cutAt == nil {
            second(rig)
            if offered(rig, 1) <= 8 { cutAt = rig.clock.now() }
        }
        let cut = try #require(cutAt)
        #expect(cut - stepAt <= .seconds(Int64(2)))
        #expect(offered(rig, 1) == 8)   // 50 − 2 − 40
        #expect(rig.station.gridView?.houseLoadA?.map { ($0 * 10).rounded() / 10 } == [40, 40, 40])
        #expect(rig.station.gridView?.fallbackActive == false)
    }

    @Test func twoSessionsShareWhatTheFuseLeaves() throws {
        let rig = try rig()
        rig.houseAmps = [10, 10, 10]
        #expect(rig.startCharging(1))
        second(rig)
        // The second session with the grid meter read every second, as the poller does.
        rig.plug(2)
        second(rig)
        rig.station.presentCard(IdToken("04A1B2C3"), at: rig.clock.now())
        second(rig)
        #expect(rig.view(2)?.session != nil)
        rig.setEV(2, .c)
        for _ in 0..<10 { second(rig) }
        #expect(rig.coil(2))
        // (50 − 2 − 10) / 2
        #expect(offered(rig, 1) == 19 && offered(rig, 2) == 19)
    }

    @Test func aGridMeterThatStopsAnsweringGivesTheFallbackOnTheFirstFailedPoll() throws {
        let rig = try rig()
        #expect(rig.startCharging(1))
        for _ in 0..<3 { second(rig) }
        #expect(offered(rig, 1) == 32)
        rig.fake.modbusBus("sim-meters").fail(with: HardwareError(.timeout, device: "sim-meters", "no answer"))
        rig.station.readMetersNow(at: rig.clock.now())
        rig.step()
        #expect(offered(rig, 1) == 8)
        #expect(rig.station.gridView?.fallbackActive == true)
        // A non-blocking fault: the connector keeps charging and reports the grid meter.
        #expect(rig.coil(1))
        #expect(rig.view(1)?.error == .gridMeterFailure)
        #expect(rig.view(1)?.status == .charging)
        rig.fake.modbusBus("sim-meters").fail(with: nil)
        for _ in 0..<8 { second(rig) }
        #expect(rig.view(1)?.error == nil)
        #expect(offered(rig, 1) == 32)
    }

    @Test func aStaleReadingGivesTheFallback() throws {
        let rig = try rig()
        #expect(rig.startCharging(1))
        for _ in 0..<3 { second(rig) }
        // No reading for more than three polls (a poller that hangs).
        for _ in 0..<1_600 { rig.step() }
        #expect(offered(rig, 1) == 8)
        #expect(rig.station.gridView?.problem == "no fresh reading")
    }

    @Test func anImplausibleReadingGivesTheFallback() throws {
        let rig = try rig()
        #expect(rig.startCharging(1))
        for _ in 0..<3 { second(rig) }
        rig.houseAmps = [150, 0, 0]   // more than 2 × the 50 A fuse
        second(rig)
        #expect(offered(rig, 1) == 8)
        #expect(rig.station.gridView?.problem?.contains("implausible") == true)
    }

    @Test func theModeIsKeptAcrossRestarts() throws {
        let rig = try rig()
        #expect(rig.station.chargingMode == .fast)
        #expect(rig.station.setChargingMode(.minPlusPV, at: rig.clock.now()) == .changed)
        #expect(rig.station.setChargingMode(.minPlusPV, at: rig.clock.now()) == .unchanged)
        _ = try rig.restart()
        #expect(rig.station.chargingMode == .minPlusPV)
    }

    @Test func aModeStoredByEvsectlIsTakenWhenTheDaemonIsToldNotByPolling() throws {
        let rig = try rig()
        // What `evsectl energy mode pv` writes, from another process.
        try rig.station.storage.config.set("pv", for: "energy.mode")
        for _ in 0..<2_000 { rig.step() }  // 4 s of steps: the database is not polled
        #expect(rig.station.chargingMode == .fast)
        rig.station.reloadStoredChargingMode(at: rig.clock.now())  // evsed's SIGUSR1
        #expect(rig.station.chargingMode == .pv)
        try rig.station.storage.config.set("turbo", for: "energy.mode")
        rig.station.reloadStoredChargingMode(at: rig.clock.now())
        #expect(rig.station.chargingMode == .pv, "an unknown stored mode changes nothing")
    }

    @Test func withoutAGridMeterThereIsNoModeToSet() throws {
        let rig = try Rig()
        #expect(rig.station.setChargingMode(.pv, at: rig.clock.now()) == .noGridMeter)
        #expect(rig.station.gridView == nil)
    }

    @Test func minPlusPVChargesTheMinimumAtNight() throws {
        let rig = try rig { $0.energy.mode = .minPlusPV }
        #expect(rig.startCharging(1))
        for _ in 0..<3 { second(rig) }
        // A 3-phase connector with a relay: the minimum is 6 A on one phase at night.
        #expect(offered(rig, 1) == 6)
    }

    @Test func pvModeSwitchesToOnePhaseForASmallSurplusWithTheContactorOpen() throws {
        let rig = try rig {
            $0.energy.mode = .pv
            $0.energy.pvStartDelay = .seconds(Int64(2))
            $0.energy.phaseSwitchInterval = .seconds(Int64(10))
        }
        let relay = rig.fake.line(named: "c1.phase.switch")
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil)
        rig.setEV(1, .c)
        // 2.3 kW exported: 10 A on one phase, not 6 A on three.
        rig.houseAmps = [-10 / 3, -10 / 3, -10 / 3]
        var coilDuringSwitch = false
        var oneAt: MonotonicInstant?
        for _ in 0..<15 where oneAt == nil {
            second(rig)
            if relay?.level == false {   // three_phase_level: high
                oneAt = rig.clock.now()
                coilDuringSwitch = rig.coil(1)
            }
        }
        #expect(oneAt != nil)
        #expect(!coilDuringSwitch)
        // Then it charges at the surplus on one phase.
        for _ in 0..<10 { second(rig) }
        #expect(rig.coil(1))
        #expect(offered(rig, 1) >= 6 && offered(rig, 1) <= 10.1)
    }

    @Test func pvModeWaitsForTheSurplus() throws {
        let rig = try rig {
            $0.energy.mode = .pv
            $0.energy.pvStartDelay = .seconds(Int64(5))
        }
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil)
        rig.setEV(1, .c)
        for _ in 0..<10 { second(rig) }
        #expect(offered(rig, 1) == 0)
        #expect(!rig.coil(1))
        #expect(rig.view(1)?.status == .suspendedEVSE)
    }

    @Test func aScheduleWithNumberPhasesOneSwitchesTheRelayWithTheContactorOpen() throws {
        // No grid meter needed: the CSMS's schedule decides.
        var config = try StationConfig.load(path: Repo.demoStation)
        config.energy.phaseSwitchInterval = .seconds(Int64(10))
        let rig = try Rig(config: config)
        try rig.station.start(at: rig.clock.now())
        let relay = rig.fake.line(named: "c1.phase.switch")
        #expect(rig.startCharging(1))
        #expect(relay?.level == true)
        var profiles = CompositeScheduleCalculator()
        profiles.install(try InstalledChargingProfile(connectorId: 1, profile: ChargingProfile(
            id: 7, stackLevel: 0, purpose: .txDefaultProfile, kind: .relative,
            schedule: ChargingSchedule(unit: .amps, periods: [ChargingSchedulePeriod(startPeriod: 0, limit: 16, numberPhases: 1)]))))
        rig.station.installChargingProfiles(profiles)
        // Paused, the contactor opens (the EV is given up to 6 s), then the relay moves.
        var coilWhenSwitched: Bool?
        for _ in 0..<6_000 where coilWhenSwitched == nil {
            rig.step()
            if relay?.level == false { coilWhenSwitched = rig.coil(1) }
        }
        #expect(coilWhenSwitched == false)
        // After settling, charging resumes at the schedule's 16 A on one phase.
        #expect(rig.step(until: { rig.coil(1) }, limit: 5_000) != nil)
        #expect(rig.step(until: { abs((rig.pwm(1)?.dutyPercent ?? 0) - 16 / 0.6) < 0.1 }, limit: 5_000) != nil)
        #expect(relay?.writes.last == false)
    }

    @Test func aBoardWithoutTheRelayDoesNotSwitchAndNeedsThreePhasesOfSurplus() throws {
        var config = try StationConfig.load(path: Repo.demoStation)
        config.energy.mode = .pv
        config.energy.pvStartDelay = .seconds(Int64(2))
        var board = try Rig.simBoard(gridMeter: true)
        for i in board.connectors.indices { board.connectors[i].contactor.phaseSwitch = nil }
        let rig = try Rig(config: config, board: board)
        try rig.station.start(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil)
        rig.setEV(1, .c)
        // 2.3 kW: enough for one phase, not for three; without a relay the EV waits.
        rig.houseAmps = [-10 / 3, -10 / 3, -10 / 3]
        for _ in 0..<10 { second(rig) }
        #expect(offered(rig, 1) == 0 && !rig.coil(1))
        // 6.9 kW: 10 A on three phases.
        rig.houseAmps = [-10, -10, -10]
        for _ in 0..<10 { second(rig) }
        #expect(rig.coil(1))
        #expect(offered(rig, 1) == 10)
    }
}
