import Drivers
import HAL

/// Faults a person (or a scenario) can inject.
public enum InjectedFault: String, Sendable, CaseIterable, Comparable {
    case rcd, estop, overtemp
    case contactorWeld = "contactor-weld"
    case contactorFailClose = "contactor-fail-close"
    case lockJam = "lock-jam"
    case meterOffline = "meter-offline"
    case pilotShort = "pilot-short"
    case diode
    /// The grid meter at the connection point stops answering.
    case gridMeterOffline = "grid-meter-offline"

    /// Station-wide inputs rather than one connector's.
    public var isStationWide: Bool { self == .estop || self == .overtemp || self == .gridMeterOffline }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// How an EV charges.
public struct EVProfile: Sendable, Equatable {
    public var maxCurrentA: Double
    public var phases: Int
    public var capacityWh: Double
    public var soc: Double

    public init(maxCurrentA: Double = 32, phases: Int = 3, capacityWh: Double = 60_000, soc: Double = 0.2) {
        self.maxCurrentA = maxCurrentA
        self.phases = phases
        self.capacityWh = capacityWh
        self.soc = soc
    }
}

public struct EVModel: Sendable {
    public var profile: EVProfile
    public var request: EVPilotRequest
    public var soc: Double
    public var full: Bool

    /// Taper near full: full current up to 80 % SoC, then falling linearly to 10 % of it.
    public var taperFactor: Double {
        soc <= 0.8 ? 1 : max(0.1, (1 - soc) / 0.2)
    }
}

/// One connector of the charger with the EV (if any) plugged into it.
public struct ConnectorModel: Sendable {
    public let spec: SimulatorConfig.Connector
    public internal(set) var ev: EVModel?
    public internal(set) var cableA: Double?
    // Outputs as the firmware set them.
    public internal(set) var coil = false
    /// `cN.phase.switch` as the firmware last drove it; nil until it first does.
    public internal(set) var phaseSwitchLevel: Bool?
    public internal(set) var lockDrive = false
    public internal(set) var rcdTest = false
    /// Each LED channel's steady brightness, 0…1: 0 or 1 on a GPIO line (`cN.led.red`), the duty
    /// on a PWM channel (`cN.led.red.pwm`), `led.set` on an LED class device (`cN.led.red.class`).
    public internal(set) var ledBrightness: [String: Double] = ["red": 0, "green": 0, "blue": 0]
    /// The pattern an LED class device runs by itself (`led.pattern`), by colour; none while steady.
    public internal(set) var ledPatterns: [String: LEDPatternRun] = [:]
    /// Is the channel lit at all: steady above 0, or running a pattern with a lit point.
    public var leds: [String: Bool] {
        ledBrightness.mapValues { $0 > 0 }.merging(ledPatterns.mapValues { $0.points.contains { $0.brightness > 0 } }) { $1 }
    }

    /// Each channel's brightness at `now`, patterns included.
    public func ledBrightness(at now: MonotonicInstant) -> [String: Double] {
        ledBrightness.merging(ledPatterns.mapValues { $0.brightness(at: now) }) { $1 }
    }
    public internal(set) var pwm = PilotPWM()
    // Physics.
    public internal(set) var contactorClosed = false
    public internal(set) var locked = false
    public internal(set) var faults: Set<InjectedFault> = []
    public internal(set) var energyImportWh = 0.0
    public internal(set) var currentA: [Double] = [0, 0, 0]
    public internal(set) var pilotState: PilotState = .A

    public var id: Int { spec.id }
    public var plugged: Bool { ev != nil }
    /// The relay follows the board's wiring; undriven, it rests where its spring puts it.
    public var threePhases: Bool {
        guard let level = phaseSwitchLevel else { return spec.phaseSwitch.unpowered == .three }
        return spec.phaseSwitch.phases(atLineLevel: level) == .three
    }
}

/// Something the world did that others must hear about.
public enum WorldOutput: Sendable {
    /// A state change for `/api/events`.
    case event(kind: String, connector: Int?, at: MonotonicInstant, fields: [(String, JSONValue)])
    /// A change on an input line for the firmware.
    case edge(line: String, edge: GPIOEdge, at: MonotonicInstant)
    case adc(channel: String, millivolts: Int, at: MonotonicInstant)
    case key(source: String, code: UInt16, pressed: Bool, at: MonotonicInstant)
}

/// The primitives the firmware may open, by protocol name.
public enum PrimitiveKind: String, Sendable {
    case input = "gpio input", output = "gpio output", pwm, led, adc, keys
}

/// The physical world of one charger. Deterministic: time only moves through `advance`,
/// every mutation happens at the world's `now`, and the effects land in an outbox the owner
/// drains (`drainOutputs`). `Simulator` wraps it with a real clock and servers.
public struct World: Sendable {
    public let config: SimulatorConfig
    public private(set) var now: MonotonicInstant
    public private(set) var connectors: [ConnectorModel]
    public private(set) var stationFaults: Set<InjectedFault> = []
    /// House load, PV and the grid meter's counters (World+Grid.swift).
    public internal(set) var building = Building()
    public private(set) var display: SimulatedLCD
    /// The SSD1306 OLED at 0x3C/0x3D on the same bus (SimulatedSSD1306+World.swift).
    public internal(set) var oled = SimulatedSSD1306()
    public private(set) var firmwareSessions = 0
    public private(set) var firmwareName: String?
    /// Levels of every input line and millivolts of every ADC channel as last published.
    public private(set) var inputLevels: [String: Bool] = [:]
    public private(set) var adcMillivolts: [String: Int] = [:]
    private var outbox: [WorldOutput] = []
    private var rfidFreeAt: MonotonicInstant = .zero

    /// Integration step: taper and the full-battery transition stay accurate when a test
    /// advances by hours at once.
    static let maxStep = EVSEDuration.seconds(Int64(1))

    public init(config: SimulatorConfig, start: MonotonicInstant) {
        self.config = config
        self.now = start
        self.connectors = config.connectors.map { ConnectorModel(spec: $0) }
        self.display = SimulatedLCD(columns: config.displayColumns, rows: config.displayRows, rom: config.displayROM)
        // Publish the initial levels without events: nobody has opened anything yet.
        settle()
        outbox.removeAll()
    }

    public mutating func drainOutputs() -> [WorldOutput] {
        defer { outbox.removeAll() }
        return outbox
    }

    // MARK: Time

    public mutating func advance(by d: EVSEDuration) {
        advance(to: now + d)
    }

    public mutating func advance(to t: MonotonicInstant) {
        while now < t {
            let step = min(t - now, World.maxStep)
            integrate(over: step)
            now = now + step
            settle()
        }
    }

    private mutating func integrate(over d: EVSEDuration) {
        let hours = d.seconds / 3600
        building.integrate(chargersA: chargersCurrentA, from: now, over: d, voltage: config.nominalVoltage)
        for i in connectors.indices {
            let c = connectors[i]
            let powerW = c.currentA.reduce(0, +) * config.nominalVoltage
            guard powerW > 0 else { continue }
            let wh = powerW * hours
            connectors[i].energyImportWh += wh
            if var ev = c.ev {
                ev.soc = min(1, ev.soc + wh / ev.profile.capacityWh)
                connectors[i].ev = ev
            }
        }
    }

    // MARK: The person at the charger (control API, scenarios)

    func index(of connector: Int) throws(SimulatorError) -> Int {
        guard let i = connectors.firstIndex(where: { $0.id == connector }) else {
            throw .notFound("unknown connector \(connector) (this charger has \(connectors.map { String($0.id) }.joined(separator: ", ")))")
        }
        return i
    }

    public mutating func plug(connector: Int, cableA: Double? = nil, profile: EVProfile = EVProfile(),
                              state: EVPilotRequest = .B) throws(SimulatorError) {
        let i = try index(of: connector)
        let c = connectors[i]
        if c.plugged { throw .conflict("connector \(connector): an EV is already plugged in") }
        var cable: Double? = nil
        if let fixed = c.spec.fixedCableA {
            if let a = cableA, a != fixed {
                throw .badRequest("connector \(connector) has a fixed \(Int(fixed)) A cable; cable_a cannot be chosen")
            }
            cable = fixed
        } else {
            // A cable left in the socket by an EV-side unplug keeps its coding.
            let a = cableA ?? c.cableA ?? 32
            guard CableCoding.resistanceOhms[Int(a)] != nil, a == a.rounded() else {
                throw .badRequest("cable_a must be 13, 20, 32 or 63 (the Type 2 PP codings), got \(a)")
            }
            cable = a
        }
        guard (6...80).contains(profile.maxCurrentA) else {
            throw .badRequest("ev.max_current_a must be within 6…80 A, got \(profile.maxCurrentA)")
        }
        guard profile.phases == 1 || profile.phases == 3 else {
            throw .badRequest("ev.phases must be 1 or 3, got \(profile.phases)")
        }
        guard profile.capacityWh > 0, profile.capacityWh <= 1_000_000 else {
            throw .badRequest("ev.capacity_wh must be within 0…1000000 Wh, got \(profile.capacityWh)")
        }
        guard (0...1).contains(profile.soc) else {
            throw .badRequest("ev.soc must be within 0…1, got \(profile.soc)")
        }
        connectors[i].cableA = cable
        let full = profile.soc >= 1
        connectors[i].ev = EVModel(profile: profile, request: full ? .B : state, soc: profile.soc, full: full)
        emit("ev.plugged", connector, [
            ("cable_a", cable.map { .double($0) } ?? .null), ("state", .string((full ? .B : state).rawValue)),
            ("max_current_a", .double(profile.maxCurrentA)), ("phases", .int(Int64(profile.phases))),
            ("capacity_wh", .double(profile.capacityWh)), ("soc", .double(profile.soc)),
        ])
        settle()
    }

    public mutating func setEVState(connector: Int, _ state: EVPilotRequest) throws(SimulatorError) {
        let i = try index(of: connector)
        guard var ev = connectors[i].ev else { throw .conflict("connector \(connector): no EV plugged in") }
        if ev.full && state != .B {
            throw .conflict("connector \(connector): the EV's battery is full; it stays in B")
        }
        ev.request = state
        connectors[i].ev = ev
        emit("ev.state", connector, [("state", .string(state.rawValue)), ("reason", .string("user"))])
        settle()
    }

    /// The cable is pulled out of the EV; its other end stays in the socket, which the lock
    /// may hold (OCPP's "EV-side disconnect"). `plug` puts an EV on it again, `unplug` takes
    /// the cable out of the socket.
    public mutating func unplugEV(connector: Int) throws(SimulatorError) {
        let i = try index(of: connector)
        guard connectors[i].plugged else { throw .conflict("connector \(connector): no EV plugged in") }
        guard connectors[i].spec.fixedCableA == nil else {
            throw .conflict("connector \(connector) has a tethered cable: unplugging the EV is unplug")
        }
        connectors[i].ev = nil
        emit("ev.unplugged", connector, [("forced", .bool(false)), ("side", .string("ev"))])
        settle()
    }

    public mutating func unplug(connector: Int, force: Bool = false) throws(SimulatorError) {
        let i = try index(of: connector)
        guard connectors[i].plugged || connectors[i].cableA != nil else { throw .conflict("connector \(connector): no EV plugged in") }
        if connectors[i].locked && !force {
            throw .conflict("connector \(connector): the cable is locked; unlock it first (or unplug with force)")
        }
        connectors[i].ev = nil
        connectors[i].cableA = nil
        emit("ev.unplugged", connector, [("forced", .bool(connectors[i].locked))])
        settle()
    }

    /// Presents a card (UID in hex, byte 0 first) to the reader: a Wiegand frame on
    /// rfid.d0/d1 and the keystrokes of an HID reader on rfid.keys; the firmware hears the
    /// one it opened. Frames never overlap: a second card waits for the first frame to end.
    @discardableResult
    public mutating func presentCard(uidHex: String) throws(SimulatorError) -> Int {
        let uid = try World.parseUID(uidHex)
        let bits = WiegandEncoder.frameBits(for: uid, format: config.wiegand)
        let frame = WiegandEncoder.frame(data: WiegandEncoder.payload(uid: uid, bits: bits))
        let start = max(now + .milliseconds(1), rfidFreeAt)
        for e in WiegandEncoder.edges(bits: frame, start: start) {
            outbox.append(.edge(line: e.line, edge: e.edge, at: e.at))
        }
        var t = start
        for ch in uidHex.uppercased() {
            guard let code = HIDKeyCodes.code(for: ch) else { continue }
            outbox.append(.key(source: "rfid.keys", code: code, pressed: true, at: t))
            outbox.append(.key(source: "rfid.keys", code: code, pressed: false, at: t + .milliseconds(1)))
            t = t + .milliseconds(2)
        }
        outbox.append(.key(source: "rfid.keys", code: HIDKeyCodes.enter, pressed: true, at: t))
        outbox.append(.key(source: "rfid.keys", code: HIDKeyCodes.enter, pressed: false, at: t + .milliseconds(1)))
        let frameEnd = start + WiegandEncoder.bitInterval * Int64(frame.count)
        rfidFreeAt = max(frameEnd, t + .milliseconds(2)) + .milliseconds(50)
        emit("rfid.card", nil, [("uid", .string(uidHex.uppercased())), ("wiegand_bits", .int(Int64(bits))),
                                ("frame_start_us", .int(Int64(start.microseconds)))])
        return bits
    }

    static func parseUID(_ hex: String) throws(SimulatorError) -> [UInt8] {
        let chars = Array(hex)
        guard !chars.isEmpty, chars.count % 2 == 0, chars.count <= 20 else {
            throw .badRequest("uid must be 1 to 10 bytes as an even number of hex digits, got \"\(hex)\"")
        }
        var bytes: [UInt8] = []
        for k in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(chars[k...k + 1]), radix: 16) else {
                throw .badRequest("uid must be hex digits, got \"\(hex)\"")
            }
            bytes.append(b)
        }
        return bytes
    }

    public mutating func setFault(_ kind: InjectedFault, connector: Int?, active: Bool) throws(SimulatorError) {
        if kind.isStationWide {
            if let c = connector { _ = try index(of: c) }
            if active { stationFaults.insert(kind) } else { stationFaults.remove(kind) }
            emit("fault", nil, [("kind", .string(kind.rawValue)), ("active", .bool(active))])
        } else {
            guard let c = connector else { throw .badRequest("fault \(kind.rawValue) needs a connector") }
            let i = try index(of: c)
            if active { connectors[i].faults.insert(kind) } else { connectors[i].faults.remove(kind) }
            emit("fault", c, [("kind", .string(kind.rawValue)), ("active", .bool(active))])
        }
        settle()
    }

    // MARK: The firmware (HAL line protocol)

    /// What a protocol name is, or nil if the charger has no such primitive.
    public func primitiveKind(_ name: String) -> PrimitiveKind? {
        switch name {
        case "estop", "overtemp", "rfid.d0", "rfid.d1": return .input
        case "rfid.keys": return .keys
        default: break
        }
        guard let (i, part) = connectorPart(name), i >= 0 else { return nil }
        _ = i
        switch part {
        case "contactor.feedback", "lock.feedback", "rcd": return .input
        case "contactor.coil", "phase.switch", "lock.drive", "rcd.test", "led.red", "led.green", "led.blue": return .output
        case "cp.pwm", "led.red.pwm", "led.green.pwm", "led.blue.pwm": return .pwm
        case "led.red.class", "led.green.class", "led.blue.class": return .led
        case "cp.high", "cp.low", "pp": return .adc
        default: return nil
        }
    }

    /// "c2.cp.pwm" → (index of connector 2, "cp.pwm").
    func connectorPart(_ name: String) -> (Int, String)? {
        guard name.first == "c", let dot = name.firstIndex(of: ".") else { return nil }
        guard let id = Int(name[name.index(after: name.startIndex)..<dot]),
              let i = connectors.firstIndex(where: { $0.id == id }) else { return nil }
        return (i, String(name[name.index(after: dot)...]))
    }

    /// Level of a line (input or output), nil if there is no such line.
    public func level(_ name: String) -> Bool? {
        if let l = inputLevels[name] { return l }
        guard let (i, part) = connectorPart(name) else { return nil }
        let c = connectors[i]
        switch part {
        case "contactor.coil": return c.coil
        case "phase.switch": return c.phaseSwitchLevel ?? c.spec.phaseSwitch.unpoweredLineLevel
        case "lock.drive": return c.lockDrive
        case "rcd.test": return c.rcdTest
        case "led.red": return c.leds["red"]
        case "led.green": return c.leds["green"]
        case "led.blue": return c.leds["blue"]
        default: return nil
        }
    }

    /// Drives an output line. The caller has checked that `name` is an output.
    public mutating func setOutput(_ name: String, _ level: Bool) {
        guard let (i, part) = connectorPart(name) else { return }
        let id = connectors[i].id
        switch part {
        case "contactor.coil":
            let changed = connectors[i].coil != level
            connectors[i].coil = level
            emit("contactor.command", id, [("commanded", .bool(level)), ("changed", .bool(changed))])
        case "lock.drive":
            let changed = connectors[i].lockDrive != level
            connectors[i].lockDrive = level
            emit("lock.command", id, [("locked", .bool(level)), ("changed", .bool(changed))])
        default:
            let before = self.level(name)
            switch part {
            case "phase.switch": connectors[i].phaseSwitchLevel = level
            case "rcd.test": connectors[i].rcdTest = level
            case "led.red", "led.green", "led.blue":
                // Shown in the state and on the page; not an event: a blinking LED would bury the
                // log's state changes under its frames.
                let colour = String(part.dropFirst(4))
                connectors[i].ledBrightness[colour] = level ? 1 : 0
                connectors[i].ledPatterns[colour] = nil
                settle()
                return
            default: return
            }
            if before != level { emit("output", id, [("line", .string(name)), ("level", .bool(level))]) }
        }
        settle()
    }

    public mutating func setPWM(_ name: String, _ pwm: PilotPWM) {
        guard let (i, part) = connectorPart(name) else { return }
        if part.hasPrefix("led.") {
            // "led.red.pwm" → red: the duty is the brightness; no event, as for the LED lines.
            let colour = String(part.dropFirst(4).dropLast(4))
            connectors[i].ledBrightness[colour] = pwm.highFraction
            connectors[i].ledPatterns[colour] = nil
            return
        }
        guard part == "cp.pwm" else { return }
        let before = connectors[i].pwm
        connectors[i].pwm = pwm
        if before != pwm {
            emit("pilot.pwm", connectors[i].id, [
                ("duty_percent", .double(World.round1(pwm.highFraction * 100))), ("enabled", .bool(pwm.enabled)),
                ("offered_current_a", .double(World.round1(pwm.offeredCurrentA))),
            ])
        }
        settle()
    }

    /// An LED class device (`cN.led.red.class`) at a steady brightness (nil pattern) or running
    /// `pattern` from now. Shown in the state and on the page, not logged as an event: only the
    /// firmware's pattern changes reach the simulator, but they are still LED frames.
    public mutating func setKernelLED(_ name: String, brightness: Double, pattern: [LEDPatternPoint]?) {
        guard let (i, part) = connectorPart(name), part.hasPrefix("led."), part.hasSuffix(".class") else { return }
        let colour = String(part.dropFirst(4).dropLast(6))
        connectors[i].ledBrightness[colour] = brightness
        connectors[i].ledPatterns[colour] = pattern.map { LEDPatternRun(points: $0, since: now) }
    }

    public mutating func i2cWrite(bus: String, address: UInt8, bytes: [UInt8]) {
        if SimulatedSSD1306.addresses.contains(address) { oledWrite(bytes); return }
        let before = display.lines
        display.write(bytes)
        let after = display.lines
        if before != after { emit("display", nil, [("lines", .array(after.map { .string($0) }))]) }
    }

    public mutating func mark(_ text: String) {
        emit("firmware.mark", nil, [("text", .string(text))])
    }

    public mutating func firmwareConnected(name: String?) {
        firmwareSessions += 1
        emit("firmware.connected", nil, [("sessions", .int(Int64(firmwareSessions)))])
    }

    public mutating func firmwareHello(name: String) {
        firmwareName = name
        emit("firmware.hello", nil, [("name", .string(name))])
    }

    public mutating func firmwareDisconnected() {
        firmwareSessions = max(0, firmwareSessions - 1)
        emit("firmware.disconnected", nil, [("sessions", .int(Int64(firmwareSessions)))])
    }

    public mutating func rejected(request: String, error: String) {
        emit("hal.rejected", nil, [("request", .string(request)), ("error", .string(error))])
    }

    // MARK: Physics

    /// Recomputes everything derived from inputs and publishes what changed.
    mutating func settle() {
        for i in connectors.indices { settleConnector(i) }
        var inputs: [String: Bool] = [
            "estop": stationFaults.contains(.estop),
            "overtemp": stationFaults.contains(.overtemp),
            "rfid.d0": true, "rfid.d1": true,
        ]
        var adc: [String: Int] = [:]
        for c in connectors {
            let p = "c\(c.id)."
            inputs[p + "contactor.feedback"] = c.contactorClosed
            inputs[p + "lock.feedback"] = c.locked
            inputs[p + "rcd"] = c.faults.contains(.rcd) || c.rcdTest
            let (high, low) = World.pilotLevels(c)
            adc[p + "cp.high"] = high
            adc[p + "cp.low"] = low
            adc[p + "pp"] = c.spec.fixedCableA == nil ? CableCoding.ppMillivolts(cableA: c.cableA) : 5000
        }
        for (name, level) in inputs.sorted(by: { $0.key < $1.key }) where inputLevels[name] != level {
            if inputLevels[name] != nil { outbox.append(.edge(line: name, edge: level ? .rising : .falling, at: now)) }
            inputLevels[name] = level
        }
        for (name, mv) in adc.sorted(by: { $0.key < $1.key }) where adcMillivolts[name] != mv {
            if adcMillivolts[name] != nil { outbox.append(.adc(channel: name, millivolts: mv, at: now)) }
            adcMillivolts[name] = mv
        }
    }

    private mutating func settleConnector(_ i: Int) {
        var c = connectors[i]
        // Contactor: a weld holds the contacts shut; a failed coil/contact never closes them.
        let closed = c.faults.contains(.contactorWeld) || (c.coil && !c.faults.contains(.contactorFailClose))
        if closed != c.contactorClosed {
            c.contactorClosed = closed
            emit("contactor.state", c.id, [("closed", .bool(closed))])
        }
        if !c.faults.contains(.lockJam) && c.locked != c.lockDrive {
            c.locked = c.lockDrive
            emit("lock.state", c.id, [("locked", .bool(c.locked))])
        }
        // A full battery makes the EV open S2 (back to B).
        if var ev = c.ev, ev.soc >= 1, !ev.full {
            ev.full = true
            ev.request = .B
            c.ev = ev
            emit("ev.state", c.id, [("state", .string("B")), ("reason", .string("full"))])
        }
        let (high, _) = World.pilotLevels(c)
        let pilot = PilotState.from(highMillivolts: high)
        if pilot != c.pilotState {
            emit("pilot.state", c.id, [("state", .string(pilot.rawValue)), ("previous", .string(c.pilotState.rawValue)),
                                       ("volts", .double(Double(high) / 1000))])
            c.pilotState = pilot
        }
        let current = World.drawnCurrent(c, nominalVoltage: config.nominalVoltage)
        if zip(current, c.currentA).contains(where: { abs($0 - $1) >= 0.05 }) || (current.reduce(0, +) == 0) != (c.currentA.reduce(0, +) == 0) {
            let total = current.reduce(0, +)
            emit("charging", c.id, [("current_a", .array(current.map { .double(World.round1($0)) })),
                                    ("power_w", .double((total * config.nominalVoltage).rounded()))])
        }
        c.currentA = current
        connectors[i] = c
    }

    /// (CP high, CP low) in millivolts as the charger's ADC sees them.
    static func pilotLevels(_ c: ConnectorModel) -> (Int, Int) {
        if c.faults.contains(.pilotShort) { return (0, 0) }
        let out: PilotPWM.Output = c.pwm.configured ? c.pwm.output : .steadyPositive
        if out == .steadyNegative { return (-12000, -12000) }
        guard let ev = c.ev else { return (12000, -12000) }
        let high = PilotState(rawValue: ev.request.rawValue)?.highMillivolts ?? 12000
        // Without its diode the EV's resistors load the negative half too.
        let low = c.faults.contains(.diode) ? 0 : -12000
        return (high, low)
    }

    /// Amperes per phase the EV draws: only through closed contacts, while it asks for power
    /// (C/D) and the duty offers at least 6 A; min(EV max, offered, cable) with the EV's taper.
    static func drawnCurrent(_ c: ConnectorModel, nominalVoltage: Double) -> [Double] {
        guard let ev = c.ev, ev.request != .B, !ev.full, c.contactorClosed, c.pwm.configured,
              !c.faults.contains(.rcd), !c.faults.contains(.pilotShort), !c.rcdTest else { return [0, 0, 0] }
        let offered = c.pwm.offeredCurrentA
        guard offered >= 6 else { return [0, 0, 0] }
        var amps = min(ev.profile.maxCurrentA, offered)
        if let cable = c.cableA { amps = min(amps, cable) }
        amps *= ev.taperFactor
        let phases = min(ev.profile.phases, c.spec.phases, c.threePhases ? 3 : 1)
        return (0..<3).map { $0 < phases ? amps : 0 }
    }

    static func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }

    mutating func emit(_ kind: String, _ connector: Int?, _ fields: [(String, JSONValue)]) {
        outbox.append(.event(kind: kind, connector: connector, at: now, fields: fields))
    }

    // MARK: Meter

    /// What connector `i`'s meter measures, in V, A, W, Wh, Hz.
    public func meterValues(connector i: Int) -> [Measurand: Double] {
        let c = connectors[i]
        let v = config.nominalVoltage
        let p = c.currentA.map { $0 * v }
        return [
            .voltageL1: v, .voltageL2: v, .voltageL3: v,
            .currentL1: c.currentA[0], .currentL2: c.currentA[1], .currentL3: c.currentA[2],
            .activePowerL1: p[0], .activePowerL2: p[1], .activePowerL3: p[2],
            .activePowerTotal: p.reduce(0, +),
            .energyImported: c.energyImportWh, .energyExported: 0,
            .frequency: config.frequency, .powerFactor: 1,
        ]
    }
}
