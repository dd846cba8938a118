import BoardDescription
import Drivers
import HAL

/// The live drivers of one connector, built from its `ConnectorDescription`.
public struct ConnectorHardware {
    public let description: ConnectorDescription
    public var id: Int { description.id }
    public let pilot: ControlPilot
    /// Sockets read PP; fixed cables carry the board's rating (no ADC).
    public let proximity: ProximityPilot
    public let lock: CableLock?
    public let contactor: Contactor
    public let rcd: FaultInput?
    public let rcdSelfTest: RCDSelfTest?
    public let meter: EnergyMeter?
    public let led: StatusLED?
}

/// Station-wide drivers.
public struct StationHardware {
    public let cardReader: (any CardReader)?
    public let display: (any TextDisplay)?
    public let led: StatusLED?
    /// Emergency stop and over-temperature inputs (empty when the board has none).
    public let faults: FaultInputs
}

/// One part that could not be brought up, and why (usually a `HardwareError` naming the
/// device node or line).
public struct PartFailure: Error, Sendable, CustomStringConvertible {
    /// Dotted part name as in `BoardDescription.hardwareMap`: `c1.contactor`, `station.display`.
    public var part: String
    public var error: any Error

    public var description: String { "\(part): \(error)" }
}

/// Assembly stopped: every part that failed (not just the first), and the parts that came up.
public struct BoardAssemblyError: Error, Sendable, CustomStringConvertible {
    public var failures: [PartFailure]
    public var assembled: [String]
    public var description: String { failures.map(\.description).joined(separator: "\n") }
}

/// A board's drivers on a backend.
public final class BoardHardware {
    public let board: BoardDescription
    public let backend: any HardwareBackend
    public let connectors: [ConnectorHardware]
    public let station: StationHardware

    init(board: BoardDescription, backend: any HardwareBackend, connectors: [ConnectorHardware], station: StationHardware) {
        self.board = board
        self.backend = backend
        self.connectors = connectors
        self.station = station
    }

    public func connector(id: Int) -> ConnectorHardware? { connectors.first { $0.id == id } }

    /// Opens every primitive of `board` on `backend` and builds its drivers. Modbus buses are
    /// opened through `modbus` (default: the backend itself); the simulator's meters are real
    /// Modbus TCP, so callers on the sim backend pass `BackendFactory.openModbusBus`.
    /// Throws `BoardAssemblyError` listing every part that failed; then nothing is returned.
    public static func assemble(board: BoardDescription, backend: any HardwareBackend,
                                modbus: ((ModbusBusConfig) throws -> any ModbusBus)? = nil) throws -> BoardHardware {
        let a = Assembler(board: board, backend: backend, openBus: modbus ?? { try backend.openModbusBus($0) })
        return try a.run()
    }
}

/// Builds the drivers part by part, collecting failures so that one report names them all.
private final class Assembler {
    let board: BoardDescription
    let backend: any HardwareBackend
    let openBus: (ModbusBusConfig) throws -> any ModbusBus
    var failures: [PartFailure] = []
    var assembled: [String] = []
    var buses: [String: any ModbusBus] = [:]

    init(board: BoardDescription, backend: any HardwareBackend, openBus: @escaping (ModbusBusConfig) throws -> any ModbusBus) {
        self.board = board
        self.backend = backend
        self.openBus = openBus
    }

    func attempt<T>(_ part: String, _ build: () throws -> T) -> T? {
        do {
            let v = try build()
            assembled.append(part)
            return v
        } catch {
            failures.append(PartFailure(part: part, error: error))
            return nil
        }
    }

    func input(_ ref: GPIOLineRef, edges: GPIOEdgeDetection = .none) throws -> any GPIOLine {
        try backend.openGPIOLine(ref.address, config: ref.config(.input, edges: edges))
    }

    func output(_ ref: GPIOLineRef) throws -> any GPIOLine {
        try backend.openGPIOLine(ref.address, config: ref.config(.output(initial: false)))
    }

    static func faultConfig(_ kind: FaultKind, _ ref: GPIOLineRef) -> FaultInputConfig {
        ref.debounce == .zero ? FaultInputConfig(kind: kind) : FaultInputConfig(kind: kind, debounce: ref.debounce)
    }

    func bus(_ name: String) throws -> any ModbusBus {
        if let b = buses[name] { return b }
        guard let config = board.modbusBus(named: name) else {
            throw HardwareError(.invalidArgument, device: name, "no such Modbus bus on the board")
        }
        let b = try openBus(config)
        buses[name] = b
        return b
    }

    func run() throws -> BoardHardware {
        var connectors: [ConnectorHardware] = []
        for c in board.connectors {
            if let hw = connector(c) { connectors.append(hw) }
        }
        let station = stationParts()
        guard failures.isEmpty, let station else {
            throw BoardAssemblyError(failures: failures, assembled: assembled)
        }
        return BoardHardware(board: board, backend: backend, connectors: connectors, station: station)
    }

    func connector(_ c: ConnectorDescription) -> ConnectorHardware? {
        let p = "c\(c.id)"
        let pilot = attempt("\(p).pilot") {
            var config = ControlPilotConfig(pwmPolarity: c.pilot.pwm.polarity, highCalibration: c.pilot.high.calibration,
                                            lowCalibration: c.pilot.low?.calibration ?? .identity,
                                            diodeCheck: c.pilot.low != nil)
            config.maximumCurrent = c.ceilingAmps
            return try ControlPilot(config: config, pwm: backend.openPWM(c.pilot.pwm.address),
                                    highLevel: backend.openADC(c.pilot.high.address),
                                    lowLevel: c.pilot.low.map { try backend.openADC($0.address) })
        }
        let proximity = attempt("\(p).proximity") { () throws -> ProximityPilot in
            switch c.kind {
            case let .fixedCable(rating):
                return try ProximityPilot(config: .init(rating: .fixed(amps: rating)), adc: nil)
            case .socket:
                guard let pp = c.proximity else {
                    throw HardwareError(.invalidArgument, device: "\(p).proximity", "socket without proximity pilot")
                }
                let circuit = ProximityCircuit(pullUpOhms: pp.pullUpOhms, supplyVolts: pp.supplyVolts, calibration: pp.adc.calibration)
                return try ProximityPilot(config: .init(rating: .measured(circuit)), adc: backend.openADC(pp.adc.address))
            }
        }
        var lock: CableLock?
        if let l = c.lock {
            lock = attempt("\(p).lock") {
                let drive: CableLockConfig.Drive
                switch l.mode {
                case .level: drive = .level
                case let .pulse(d): drive = .pulse(duration: d)
                }
                return try CableLock(config: CableLockConfig(drive: drive, feedbackTimeout: l.timeout),
                                     drive: output(l.drive), unlockDrive: l.unlock.map { try output($0) },
                                     feedback: l.feedback.map { try input($0) })
            }
        }
        let contactor = attempt("\(p).contactor") {
            let k = c.contactor
            return try Contactor(config: ContactorConfig(closeTimeout: k.feedbackTimeout, weldTimeout: k.feedbackTimeout),
                                 coils: k.coils.map { try output($0) }, feedback: k.feedback.map { try input($0) },
                                 phaseSwitch: k.phaseSwitch.map { try output($0) })
        }
        var rcd: FaultInput?
        var rcdSelfTest: RCDSelfTest?
        if let r = c.rcd {
            rcd = attempt("\(p).rcd") { FaultInput(config: Self.faultConfig(.rcd, r.trip), line: try input(r.trip)) }
            if let t = r.test, let rcd {
                rcdSelfTest = attempt("\(p).rcd.test") { RCDSelfTest(config: .init(), testOutput: try output(t), rcd: rcd) }
            }
        }
        var meter: EnergyMeter?
        if let m = c.meter {
            meter = attempt("\(p).meter") { EnergyMeter(bus: try bus(m.bus), unit: m.unit, map: m.map) }
        }
        var led: StatusLED?
        if let l = c.led { led = attempt("\(p).led") { try statusLED(l) } }

        guard let pilot, let proximity, let contactor,
              (c.lock == nil) == (lock == nil), (c.rcd == nil) == (rcd == nil),
              (c.meter == nil) == (meter == nil), (c.led == nil) == (led == nil) else { return nil }
        return ConnectorHardware(description: c, pilot: pilot, proximity: proximity, lock: lock, contactor: contactor,
                                 rcd: rcd, rcdSelfTest: rcdSelfTest, meter: meter, led: led)
    }

    func statusLED(_ l: StatusLEDDescription) throws -> StatusLED {
        try StatusLED(lines: .rgb(red: l.red.map { try output($0) }, green: l.green.map { try output($0) },
                                  blue: l.blue.map { try output($0) }))
    }

    func stationParts() -> StationHardware? {
        let s = board.station
        var reader: (any CardReader)?
        var ok = true
        switch s.rfid {
        case let .wiegand(d0, d1, bits, timeout)?:
            let format: WiegandFormat = bits == 26 ? .wiegand26 : bits == 34 ? .wiegand34 : .raw(bits: bits)
            reader = attempt("station.rfid") {
                WiegandReader(d0: try input(d0, edges: .both), d1: try input(d1, edges: .both),
                              config: WiegandConfig(formats: [format], frameGap: timeout))
            }
            ok = ok && reader != nil
        case let .hid(device)?:
            reader = attempt("station.rfid") { HIDKeyboardReader(source: try backend.openKeyEventSource(device: device)) }
            ok = ok && reader != nil
        case nil: break
        }
        var display: (any TextDisplay)?
        switch s.display {
        case let .hd44780(bus, address, columns, rows)?:
            display = attempt("station.display") {
                try HD44780Display(i2c: backend.openI2CDevice(bus: bus, address: address), columns: columns, rows: rows)
            }
            ok = ok && display != nil
        case .console?:
            display = attempt("station.display") { try ConsoleDisplay(columns: 20, rows: 4) { print($0) } }
            ok = ok && display != nil
        case nil: break
        }
        var led: StatusLED?
        if let l = s.led {
            led = attempt("station.led") { try statusLED(l) }
            ok = ok && led != nil
        }
        var inputs: [FaultInput] = []
        if let e = s.emergencyStop {
            if let f = attempt("station.estop", { FaultInput(config: Self.faultConfig(.emergencyStop, e), line: try input(e)) }) {
                inputs.append(f)
            } else { ok = false }
        }
        if let t = s.overTemperature {
            if let f = attempt("station.overtemp", { FaultInput(config: Self.faultConfig(.overTemperature, t), line: try input(t)) }) {
                inputs.append(f)
            } else { ok = false }
        }
        guard ok else { return nil }
        return StationHardware(cardReader: reader, display: display, led: led, faults: FaultInputs(inputs: inputs))
    }
}
