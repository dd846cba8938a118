import BoardAssembly
import BoardDescription
import ChargingCore
import Drivers
import HAL
import Logging
import Storage

/// Energy management: the grid meter at the connection point (board `grid.meter`), the charging
/// mode, and the fallback when the meter cannot be trusted. The decisions are the core's
/// (`GridEnergyManager`); this file feeds it readings and reports what it decided.
extension Station {
    /// The grid meter's events share the meters' inbox under this id (connector ids start at 1).
    static let gridMeterInboxId = 0
    /// Where the charging mode set at run time is kept (the config store), so a restart keeps it.
    static let chargingModeKey = "energy.mode"

    struct GridState {
        var manager: GridEnergyManager?
        /// Until polling starts: the station reads it itself (tests, `start`).
        var meter: EnergyMeter?
        var poller: MeterPoller?
        var pollInterval: EVSEDuration = .seconds(Int64(1))
        var lastReading: GridMeterReading?
        var meterOffline = false
        var failures = 0
        /// The problem reported to the log, the display and the connectors (once per outage).
        var reportedProblem: GridMeterProblem?
        var lastLimits: GridLimits?
        /// The first allocation round: a meter that has not answered yet is only reported once
        /// it had the time of `maxReadingAge` to do so (no fault at every boot).
        var firstRoundAt: MonotonicInstant?
    }

    /// Builds the energy manager from the board's `grid:` and the station's `energy:`; the mode
    /// is the one last set at run time, else the station file's.
    func setUpEnergyManagement() {
        let board = hardware.board
        guard board.grid.meter != nil else { return }
        let e = config.energy
        let policy = GridPolicy(fuseAmps: board.grid.maxCurrentAmps, marginAmps: board.grid.marginAmps,
                                fallbackAmps: board.grid.fallbackCurrentAmps,
                                maxReadingAge: (board.grid.meter?.pollInterval ?? .seconds(Int64(1))) * 3,
                                pairingTolerance: EVSEDuration(microseconds: (board.grid.meter?.pollInterval ?? .seconds(Int64(1))).microseconds / 2),
                                pvStartDelay: e.pvStartDelay, pvStopAllowanceW: e.pvStopAllowanceW,
                                pvStopDelay: e.pvStopDelay, pvMinimumOnTime: e.pvMinimumOnTime,
                                pvMinimumOffTime: e.pvMinimumOffTime)
        var mode = e.mode
        do {
            if let stored = try storage.config.value(for: Self.chargingModeKey) {
                if let m = ChargingMode(rawValue: stored) { mode = m } else { logger.warning("energy: stored mode \"\(stored)\" is unknown; using \(mode.rawValue)") }
            }
        } catch {
            logger.error("energy: cannot read the stored charging mode: \(error); using \(mode.rawValue)")
        }
        grid.manager = GridEnergyManager(policy: policy, mode: mode)
        grid.meter = hardware.station.gridMeter
        grid.pollInterval = board.grid.meter?.pollInterval ?? .seconds(Int64(1))
        logger.info("energy: grid meter \(board.grid.meter.map { "\($0.map.name) on \($0.bus) unit \($0.unit)" } ?? "-"), fuse \(board.grid.maxCurrentAmps) A, margin \(board.grid.marginAmps) A, fallback \(board.grid.fallbackCurrentAmps) A, mode \(mode.rawValue)")
    }

    // MARK: - Mode

    public var chargingMode: ChargingMode? { grid.manager?.mode }

    public enum ChargingModeChange: Equatable, Sendable {
        case changed
        case unchanged
        /// The board has no grid meter: there is nothing to manage.
        case noGridMeter
        /// The mode could not be stored; it was not changed.
        case notStored(String)
    }

    /// Switches the charging mode now and keeps it for the next start. On the loop's thread.
    @discardableResult
    public func setChargingMode(_ mode: ChargingMode, at now: MonotonicInstant) -> ChargingModeChange {
        guard var manager = grid.manager else { return .noGridMeter }
        if manager.mode == mode { return .unchanged }
        do {
            try storage.config.set(mode.rawValue, for: Self.chargingModeKey)
        } catch {
            logger.error("energy: cannot store charging mode \(mode.rawValue): \(error)")
            return .notStored("\(error)")
        }
        logger.notice("energy: charging mode \(manager.mode.rawValue) → \(mode.rawValue)")
        manager.setMode(mode)
        grid.manager = manager
        eventsSinceAllocation += 1
        return .changed
    }

    /// `evsectl energy mode` writes the mode into the station's database and then tells the
    /// running daemon (SIGUSR1 to the pid in `evsed.pid`), which calls this on its loop: an
    /// event, not a periodic database read (and no control socket to secure).
    public func reloadStoredChargingMode(at now: MonotonicInstant) {
        guard var manager = grid.manager else { return }
        guard let stored = try? storage.config.value(for: Self.chargingModeKey), let mode = ChargingMode(rawValue: stored),
              mode != manager.mode else { return }
        logger.notice("energy: charging mode \(manager.mode.rawValue) → \(mode.rawValue) (set by evsectl)")
        manager.setMode(mode)
        grid.manager = manager
        eventsSinceAllocation += 1
    }

    // MARK: - Readings

    func startGridMeterPolling() {
        guard let meter = grid.meter else { return }
        grid.meter = nil
        let inbox = meterInbox
        nonisolated(unsafe) let handed = meter
        let poller = MeterPoller(meter: handed, interval: grid.pollInterval, clock: clock) { inbox.post(connector: Station.gridMeterInboxId, $0) }
        poller.start()
        grid.poller = poller
    }

    /// Reads the grid meter on the loop's thread (before polling starts: `start`, tests) and takes
    /// the reading at once, so the first allocation round already knows the house load (a
    /// session resumed after a restart is not cut to the fallback for want of a reading).
    func readGridMeterNow(at now: MonotonicInstant) {
        guard let meter = grid.meter else { return }
        do {
            takeGridMeterEvent(.sample(try meter.read(at: now)), at: now)
        } catch {
            takeGridMeterEvent(.fault(error, at: now), at: now)
        }
    }

    func takeGridMeterEvent(_ event: MeterPollerEvent, at now: MonotonicInstant) {
        switch event {
        case let .sample(s):
            grid.failures = 0
            grid.meterOffline = false
            let currents = [s[.currentL1], s[.currentL2], s[.currentL3]]
            let powers = [s[.activePowerL1], s[.activePowerL2], s[.activePowerL3]]
            // A map without L2/L3 (a 1-phase meter) or a value missing: NaN, which is implausible.
            grid.lastReading = GridMeterReading.fromMeter(
                currentsA: currents.map { $0 ?? .nan },
                phasePowersW: powers.contains(where: { $0 == nil }) ? nil : powers.map { $0 ?? 0 },
                totalPowerW: s[.activePowerTotal], at: s.at)
            logger.debug("grid: \(grid.lastReading?.currentsA ?? []) A, \(s[.activePowerTotal] ?? .nan) W")
        case let .fault(fault, _):
            grid.failures += 1
            // The first failed read ends the trust: the building's load is unknown from now on,
            // so the fallback applies within one poll period (not after the driver's three
            // failures that make a charger's meter "offline").
            grid.meterOffline = true
            if grid.failures == 1 || grid.failures % 60 == 0 { logger.warning("grid meter: \(fault)") }
        case .recovered:
            logger.notice("grid meter answers again")
        }
        eventsSinceAllocation += 1
    }

    // MARK: - Limits

    /// This round's grid limits (nil without a grid meter), and the report of a problem: logged
    /// once per outage, a non-blocking `gridMeter` fault on every connector (status to the
    /// CSMS), a line on the display.
    func gridLimits(at now: MonotonicInstant) -> GridLimits? {
        guard var manager = grid.manager else { return nil }
        var chargers: [ChargerReading] = []
        var minimumPhases = 3
        for c in connectors {
            if c.machine.contactorClosed, let s = c.lastMeterSample, s.currentsA.count == 3 {
                // A sample without its time (fed by hand) counts as taken with the grid reading.
                chargers.append(ChargerReading(currentsA: s.currentsA, readAt: s.readAt ?? grid.lastReading?.at ?? now))
            }
            // The least a session can charge with: 6 A on one phase where the connector is (or
            // can switch to) one phase, 6 A on three otherwise.
            if c.hw.description.phases == 1 || c.hw.contactor.phases == .one || canSwitchPhases(c) { minimumPhases = 1 }
        }
        let minimumPowerW = 6 * ChargingLimit.nominalPhaseVoltage * Double(minimumPhases)
        let limits = manager.limits(reading: grid.lastReading, meterOffline: grid.meterOffline, chargers: chargers,
                                    minimumPowerW: minimumPowerW, now: now)
        grid.manager = manager
        grid.lastLimits = limits
        let firstRound = grid.firstRoundAt ?? now
        grid.firstRoundAt = firstRound
        if limits.problem == .noReading, now - firstRound < manager.policy.maxReadingAge {
            // Still the fallback's limits; not yet a fault.
        } else {
            reportGridProblem(limits.problem, at: now)
        }
        return limits
    }

    private func reportGridProblem(_ problem: GridMeterProblem?, at now: MonotonicInstant) {
        let unix = wallClock.unixMilliseconds()
        switch (grid.reportedProblem, problem) {
        case (nil, let p?):
            grid.reportedProblem = p
            let fallback = hardware.board.grid.fallbackCurrentAmps
            logger.error("energy: grid meter \(p); every connector limited to the fallback of \(fallback) A")
            for c in connectors { dispatch(c, .faultRaised(.gridMeter), at: now, unixMs: unix) }
        case (_?, nil):
            grid.reportedProblem = nil
            logger.notice("energy: grid meter readings usable again; fallback ended")
            for c in connectors { dispatch(c, .faultCleared(.gridMeter), at: now, unixMs: unix) }
        case let (old?, new?) where old != new:
            // Same outage, other cause: the record is kept, the log says so once.
            grid.reportedProblem = new
            logger.warning("energy: grid meter \(new)")
        default:
            break
        }
    }

    /// The display's note while the fallback applies (nil otherwise).
    var gridFallbackNotice: String? {
        guard grid.reportedProblem != nil else { return nil }
        switch config.language {
        case "de": return "Netzzähler: begrenzt"
        case "fr": return "Réseau: limité"
        case "nl": return "Netmeter: beperkt"
        default: return "Grid meter: limited"
        }
    }

    /// The grid as energy management saw it last (for `evsectl`, the OCPP adapter and tests).
    public struct GridView: Sendable, Equatable {
        public var mode: ChargingMode
        public var houseLoadA: [Double]?
        public var surplusW: Double?
        public var capacityAmps: [Double]
        public var powerLimitW: Double?
        public var fallbackActive: Bool
        public var problem: String?
        public var pvCharging: Bool
    }

    public var gridView: GridView? {
        guard let manager = grid.manager else { return nil }
        let l = grid.lastLimits
        return GridView(mode: manager.mode, houseLoadA: l?.houseLoadA, surplusW: l?.surplusW,
                        capacityAmps: l?.phaseCapacityAmps ?? [], powerLimitW: l?.powerLimitW,
                        fallbackActive: l?.problem != nil, problem: l?.problem.map { "\($0)" }, pvCharging: l?.pvCharging ?? false)
    }
}
