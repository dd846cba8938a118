#if canImport(Glibc)
import Glibc
#endif
import BoardDescription
import ChargingCore
import Drivers
import HAL
import HALFake
import Station
import Storage

enum Repo {
    static var root: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }
    static var simBoard: String { root + "/Board/sim-2x22kw.yaml" }
    static var demoStation: String { root + "/etc/station.demo.yaml" }
}

/// A fresh directory under /tmp for one test's database.
func temporaryDirectory() -> String {
    var template = Array("/tmp/station-test-XXXXXX".utf8CString)
    guard let p = template.withUnsafeMutableBufferPointer({ buf in buf.baseAddress.flatMap { mkdtemp($0) } }) else { return "/tmp" }
    return String(cString: p)
}

/// The physical world around a station on the fake backend: the EV's pilot levels, the cable,
/// the contactor's and lock's feedback contacts following their drives, the meter's registers.
/// `step` plays one loop iteration: the world reacts to the outputs, then the station steps.
final class Rig {
    let fake: FakeBackend
    let clock: VirtualClock
    let board: BoardDescription
    let dataDirectory: String
    var station: Station
    var energyWh: [Int: Double] = [1: 1_000, 2: 5_000]
    var currents: [Int: Double] = [1: 0, 2: 0]
    let stepInterval = EVSEDuration.milliseconds(2)
    /// Connectors whose contactor is welded: the feedback stays closed whatever the coil does.
    var welded: Set<Int> = []
    /// The station's wall clock (nil: one following the virtual clock from 2026-01-01).
    let wallClock: (any WallClock)?

    /// The building's own load per phase, as the grid meter (if the board has one) sees it on
    /// top of the chargers' currents.
    var houseAmps: [Double] = [0, 0, 0]

    /// `Board/sim-2x22kw.yaml` without its grid meter (the station shares the fuse on its own
    /// knowledge), or with it (`GridStationTests`).
    static func simBoard(gridMeter: Bool = false) throws -> BoardDescription {
        var board = try BoardLoader.load(path: Repo.simBoard)
        if !gridMeter { board.grid.meter = nil }
        return board
    }

    /// `board`: default `Rig.simBoard()`.
    init(config: StationConfig? = nil, fake: FakeBackend = FakeBackend(), clock: VirtualClock = VirtualClock(),
         dataDirectory: String = temporaryDirectory(), board: BoardDescription? = nil,
         wallClock: (any WallClock)? = nil) throws {
        self.fake = fake
        self.clock = clock
        self.wallClock = wallClock
        self.dataDirectory = dataDirectory
        self.board = try board ?? Rig.simBoard()
        for id in [1, 2] {
            fake.adcChannel(.named("c\(id).cp.high")).set(volts: 12)
            fake.adcChannel(.named("c\(id).cp.low")).set(volts: -12)
            fake.adcChannel(.named("c\(id).pp")).set(volts: 5)
        }
        station = try Rig.makeStation(fake: fake, clock: clock, board: self.board, dataDirectory: dataDirectory, config: config,
                                      wallClock: wallClock)
        writeMeters()
    }

    static func makeStation(fake: FakeBackend, clock: VirtualClock, board: BoardDescription, dataDirectory: String,
                            config: StationConfig?, wallClock: (any WallClock)? = nil) throws -> Station {
        var c = try config ?? StationConfig.load(path: Repo.demoStation)
        c.dataDirectory = dataDirectory
        let storage = try StationStorage(dataDirectory: dataDirectory)
        return try Station(board: board, backend: fake, config: c, storage: storage, clock: clock,
                           wallClock: wallClock ?? FollowingWallClock(following: clock), sessionIdSeed: 42)
    }

    /// A new Station on the same database and the same hardware, as after a crash or restart.
    /// - Parameter messagesOwed: the adapter hook of the restarted station, in place before its
    ///   recovery records anything.
    func restart(config: StationConfig? = nil, messagesOwed: SessionMessagesOwed? = nil) throws -> Station.RecoveryReport {
        station = try Rig.makeStation(fake: fake, clock: clock, board: board, dataDirectory: dataDirectory, config: config,
                                      wallClock: wallClock)
        station.sessionMessagesOwed = messagesOwed
        writeMeters()
        return try station.start(at: clock.now())
    }

    func writeMeters() {
        if let g = board.grid.meter {
            // House load plus every connector's current, per phase; import positive.
            let amps = (0..<3).map { p in houseAmps[p] + board.connectors.reduce(0) { $0 + (currents[$1.id] ?? 0) } }
            let values: [Measurand: Double] = [
                .voltageL1: 230, .voltageL2: 230, .voltageL3: 230,
                .currentL1: abs(amps[0]), .currentL2: abs(amps[1]), .currentL3: abs(amps[2]),
                .activePowerL1: 230 * amps[0], .activePowerL2: 230 * amps[1], .activePowerL3: 230 * amps[2],
                .activePowerTotal: 230 * amps.reduce(0, +), .frequency: 50, .powerFactor: 1,
                .energyImported: 0, .energyExported: 0,
            ]
            for (measurand, def) in g.map.registers {
                guard let v = values[measurand], let words = try? RegisterEncoder.encode(v, def) else { continue }
                fake.modbusBus(g.bus).setRegisters(unit: g.unit, function: def.function, address: def.address, words)
            }
        }
        for c in board.connectors {
            guard let m = c.meter else { continue }
            let values: [Measurand: Double] = [
                .voltageL1: 230, .voltageL2: 230, .voltageL3: 230,
                .currentL1: currents[c.id] ?? 0, .currentL2: currents[c.id] ?? 0, .currentL3: currents[c.id] ?? 0,
                .activePowerTotal: 3 * 230 * (currents[c.id] ?? 0), .frequency: 50, .powerFactor: 1,
                .energyImported: energyWh[c.id] ?? 0, .energyExported: 0,
                .activePowerL1: 230 * (currents[c.id] ?? 0), .activePowerL2: 230 * (currents[c.id] ?? 0),
                .activePowerL3: 230 * (currents[c.id] ?? 0),
            ]
            for (measurand, def) in m.map.registers {
                guard let v = values[measurand], let words = try? RegisterEncoder.encode(v, def) else { continue }
                fake.modbusBus(m.bus).setRegisters(unit: m.unit, function: def.function, address: def.address, words)
            }
        }
    }

    func coil(_ id: Int) -> Bool { fake.line(named: "c\(id).contactor.coil")?.level ?? false }
    func pwm(_ id: Int) -> FakePWMOutput.Setting? { fake.pwm(.named("c\(id).cp.pwm"))?.setting }

    func plug(_ id: Int, cableAmps: Double = 32) {
        // PP resistor: 220 Ω for 32 A, 680 Ω for 20 A, 1.5 kΩ for 13 A (1 kΩ pull-up to 5 V).
        let ohms = cableAmps >= 32 ? 220.0 : cableAmps >= 20 ? 680 : 1_500
        fake.adcChannel(.named("c\(id).pp")).set(volts: 5 * ohms / (1_000 + ohms))
        setEV(id, .b)
    }

    func unplug(_ id: Int) {
        fake.adcChannel(.named("c\(id).pp")).set(volts: 5)
        setEV(id, .a)
    }

    func setEV(_ id: Int, _ state: CPState) {
        let volts: Double = switch state { case .a: 12; case .b: 9; case .c: 6; case .d: 3; case .e: 0; case .f: -12 }
        fake.adcChannel(.named("c\(id).cp.high")).set(volts: volts)
    }

    /// The world follows the outputs (feedback contacts mirror their drives), then one step.
    func step() {
        let now = clock.advance(by: stepInterval)
        for id in [1, 2] {
            fake.line(named: "c\(id).contactor.feedback")?.drive(coil(id) || welded.contains(id), at: now)
            fake.line(named: "c\(id).lock.feedback")?.drive(fake.line(named: "c\(id).lock.drive")?.level ?? false, at: now)
        }
        station.step(at: now)
    }

    /// Steps until `condition` holds (at most `limit` steps); returns the steps taken.
    @discardableResult
    func step(until condition: () -> Bool, limit: Int = 5_000) -> Int? {
        for n in 1...limit {
            step()
            if condition() { return n }
        }
        return nil
    }

    /// Moves energy into connector `id`'s meter and lets the station read it.
    func meter(_ id: Int, addWh: Double, amps: Double? = nil) {
        energyWh[id, default: 0] += addWh
        if let amps { currents[id] = amps }
        writeMeters()
        station.readMetersNow(at: clock.now())
        step()
    }

    func view(_ id: Int) -> Station.ConnectorView? { station.connector(id) }

    /// Plug, card, lock, EV to C: returns once the contactor is closed.
    func startCharging(_ id: Int = 1, card: String = "A1B2C3") -> Bool {
        station.readMetersNow(at: clock.now())
        plug(id)
        guard step(until: { self.view(id)?.pilot == .b }) != nil else { return false }
        station.presentCard(IdToken(card), at: clock.now())
        guard step(until: { self.view(id)?.session != nil }) != nil else { return false }
        // The PWM offers before the EV asks (B2), so the EV can go to C.
        // (A second session waits up to 5 s while the first one follows its reduced share.)
        guard step(until: { (self.pwm(id)?.dutyPercent ?? 100) < 100 }, limit: 3_000) != nil else { return false }
        setEV(id, .c)
        return step(until: { self.coil(id) }) != nil
    }
}
