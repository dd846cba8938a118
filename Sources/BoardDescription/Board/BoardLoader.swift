import ConfigFile
import Drivers
import HAL

/// Loads and validates a board file (schema: Board/README.md). Any problem throws a
/// `BoardFileError` naming file, line and field; nothing is returned half-checked.
public enum BoardLoader {
    /// The most current IEC 61851-1 PWM can signal (D = I/2.5 + 64 at 96 % duty).
    public static let maxSignallableAmps = 80.0
    /// The least current IEC 61851-1 allows to offer.
    public static let minSignallableAmps = 6.0

    public static func load(path: String) throws(BoardFileError) -> BoardDescription {
        let text = try TextFile.read(path)
        return try parse(text, file: path)
    }

    /// `metersDirectory` overrides the file's `meters_dir` (default `meters/` beside the file).
    public static func parse(_ text: String, file: String, metersDirectory: String? = nil) throws(BoardFileError) -> BoardDescription {
        let root = try ConfigParser.parse(text, file: file)
        var v = BoardValidator(file: file, reader: ConfigReader(file: file))
        return try v.board(root, metersDirectory: metersDirectory)
    }
}

private struct BoardValidator {
    let file: String
    let reader: ConfigReader
    var isSim = false
    /// Every primitive in use: key → (field, line), to reject a line/channel wired twice.
    var used: [String: (field: String, line: Int)] = [:]
    var metersDirectory = "meters"
    var buses: [ModbusBusConfig] = []
    var meterUnits: [String: String] = [:]

    init(file: String, reader: ConfigReader) {
        self.file = file
        self.reader = reader
    }

    var r: ConfigReader { reader }

    mutating func board(_ root: ConfigNode, metersDirectory override: String?) throws(BoardFileError) -> BoardDescription {
        if root.isNull { throw r.error(line: 1, "", "empty board file: expected model, backend, grid and connectors") }
        var top = try r.mapping(root, "")
        let model = try r.string(top.required("model", "the charger model's name"), "model")

        let backendNode = try top.required("backend", "linux or sim")
        let backendName = try r.string(backendNode, "backend")
        var backend = BackendChoice.linux
        switch backendName {
        case "linux":
            if let n = top.optional("simulator") {
                throw r.error(n, "simulator", "only for backend: sim (this board is backend: linux)")
            }
        case "sim":
            isSim = true
            var host = "127.0.0.1"
            var port = 8089
            if let n = top.optional("simulator") {
                var f = try r.mapping(n, "simulator")
                if let a = f.optional("address") { (host, port) = try hostPort(a, f.sub("address")) }
                try f.finish()
            }
            backend = .sim(host: host, port: port)
        default:
            throw r.error(backendNode, "backend", "expected linux or sim, found \(backendNode.kindDescription)")
        }

        let dir = TextFile.directory(of: file)
        if let o = override {
            _ = top.optional("meters_dir")
            metersDirectory = o
        } else if let n = top.optional("meters_dir") {
            metersDirectory = TextFile.join(dir, try r.string(n, "meters_dir"))
        } else {
            metersDirectory = TextFile.join(dir, "meters")
        }

        let gridNode = try top.required("grid", "{max_current: A per phase, phases: 1 or 3}")
        if let n = top.optional("modbus") { try modbus(n) }
        // After modbus: the grid meter names one of its buses.
        let grid = try grid(gridNode)
        let connectorsNode = try top.required("connectors", "a list of connectors")
        let stationNode = top.optional("station")
        try top.finish()

        let items = try r.list(connectorsNode, "connectors")
        if items.isEmpty { throw r.error(connectorsNode, "connectors", "expected at least one connector") }
        var connectors: [ConnectorDescription] = []
        for (i, item) in items.enumerated() {
            let c = try connector(item, "connectors[\(i)]", grid: grid)
            if let other = connectors.first(where: { $0.id == c.id }) {
                throw r.error(item, "connectors[\(i)].id", "connector id \(c.id) is already used (by connector \(other.id) above); ids must be unique")
            }
            connectors.append(c)
        }
        let stationParts = try stationNode.map { n throws(BoardFileError) in try station(n, "station") }
            ?? StationDescription()
        return BoardDescription(file: file, model: model, backend: backend, grid: grid, modbusBuses: buses,
                                connectors: connectors, station: stationParts)
    }

    // MARK: Station-wide sections

    mutating func grid(_ node: ConfigNode) throws(BoardFileError) -> GridConnection {
        var f = try r.mapping(node, "grid")
        let amps = try r.double(f.required("max_current", "the grid connection's limit in A per phase"),
                                f.sub("max_current"), in: BoardLoader.minSignallableAmps...4000, unit: "A")
        let phases = try phaseCount(f.required("phases", "1 or 3"), f.sub("phases"))
        var grid = GridConnection(maxCurrentAmps: amps, phases: phases)
        if let n = f.optional("meter") { grid.meter = try meter(n, f.sub("meter"), atConnector: false) }
        if let n = f.optional("margin") {
            let margin = try r.double(n, f.sub("margin"), in: 0...4000, unit: "A")
            // 0 A leaves nothing for a load that switches on between two meter polls; a margin
            // of the whole fuse leaves nothing to charge with.
            guard margin > 0, margin < amps else {
                throw r.error(n, f.sub("margin"), "\(ConfigReader.format(margin)) A: the margin must be above 0 A and below the fuse (grid.max_current: \(ConfigReader.format(amps)) A)")
            }
            grid.marginAmps = margin
        }
        if let n = f.optional("fallback_current") {
            let fallback = try r.double(n, f.sub("fallback_current"), in: 0...80, unit: "A")
            guard fallback == 0 || fallback >= BoardLoader.minSignallableAmps else {
                throw r.error(n, f.sub("fallback_current"), "\(ConfigReader.format(fallback)) A cannot be signalled: 0 (no charging without the grid meter) or 6…80 A")
            }
            guard fallback <= amps else {
                throw r.error(n, f.sub("fallback_current"), "\(ConfigReader.format(fallback)) A per connector is above the fuse (grid.max_current: \(ConfigReader.format(amps)) A)")
            }
            grid.fallbackCurrentAmps = fallback
        }
        try f.finish()
        return grid
    }

    func phaseCount(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> Int {
        guard let p = node.int, p == 1 || p == 3 else {
            throw r.error(node, path, "expected 1 or 3 phases, found \(node.kindDescription)")
        }
        return p
    }

    func hostPort(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> (String, Int) {
        let s = try r.string(node, path)
        guard let colon = s.lastIndex(of: ":"), colon != s.startIndex,
              let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else {
            throw r.error(node, path, "expected HOST:PORT (e.g. 127.0.0.1:5020), found \"\(s)\"")
        }
        return (String(s[..<colon]), port)
    }

    mutating func modbus(_ node: ConfigNode) throws(BoardFileError) {
        let f = try r.mapping(node, "modbus")
        for entry in f.entries {
            let path = "modbus.\(entry.key)"
            var b = try r.mapping(entry.value, path)
            let kind = try b.exactlyOne(of: ["rtu", "tcp"], "the bus's link")
            var timeout = EVSEDuration.milliseconds(500)
            if let n = b.optional("timeout_ms") {
                timeout = .milliseconds(Int64(try r.int(n, b.sub("timeout_ms"), in: 10...10_000, unit: "ms")))
            }
            let link: ModbusBusConfig.Link
            if kind == "tcp" {
                let n = try b.required("tcp", "HOST:PORT")
                let (host, port) = try hostPort(n, b.sub("tcp"))
                link = .tcp(host: host, port: port)
            } else {
                let rtuPath = b.sub("rtu")
                var rf = try r.mapping(b.required("rtu", "{device, baud, parity, stop_bits, rs485}"), rtuPath)
                let device = try r.string(rf.required("device", "the serial device, e.g. /dev/ttyAMA0"), rf.sub("device"))
                if !device.hasPrefix("/dev/") {
                    throw r.error(rf.node, rf.sub("device"), "expected a device node under /dev/, found \"\(device)\"")
                }
                var baud = 9600
                if let n = rf.optional("baud") {
                    baud = try r.int(n, rf.sub("baud"), in: 1...1_000_000)
                    let standard = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]
                    if !standard.contains(baud) {
                        throw r.error(n, rf.sub("baud"), "expected a standard rate (\(standard.map(String.init).joined(separator: ", "))), found \(baud)")
                    }
                }
                var parity = ModbusBusConfig.Parity.none
                if let n = rf.optional("parity") {
                    guard let p = n.scalarText.flatMap(ModbusBusConfig.Parity.init(rawValue:)), !n.isNull else {
                        throw r.error(n, rf.sub("parity"), "expected one of none, even, odd, found \(n.kindDescription)")
                    }
                    parity = p
                }
                var dataBits = 8
                if let n = rf.optional("data_bits") { dataBits = try r.int(n, rf.sub("data_bits"), in: 7...8) }
                var stopBits = 1
                if let n = rf.optional("stop_bits") { stopBits = try r.int(n, rf.sub("stop_bits"), in: 1...2) }
                var rs485 = true
                if let n = rf.optional("rs485") { rs485 = try r.bool(n, rf.sub("rs485")) }
                try rf.finish()
                let key = "serial \(device)"
                try claim(key, rtuPath, line: rf.node.line)
                link = .rtu(device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits, rs485: rs485)
            }
            try b.finish()
            buses.append(ModbusBusConfig(name: entry.key, link: link, responseTimeout: timeout))
        }
    }

    // MARK: Connectors

    mutating func connector(_ node: ConfigNode, _ path: String, grid: GridConnection) throws(BoardFileError) -> ConnectorDescription {
        var f = try r.mapping(node, path)
        let id = try r.int(f.required("id", "the connector number (1, 2, …)"), f.sub("id"), in: 1...99)
        let typeNode = try f.required("type", "socket or cable")
        let type = try r.string(typeNode, f.sub("type"))
        guard type == "socket" || type == "cable" else {
            throw r.error(typeNode, f.sub("type"), "expected socket (Type 2 with PP and lock) or cable (fixed cable), found \(typeNode.kindDescription)")
        }
        let phasesNode = try f.required("phases", "1 or 3")
        let phases = try phaseCount(phasesNode, f.sub("phases"))
        if phases > grid.phases {
            throw r.error(phasesNode, f.sub("phases"), "\(phases) phases on a \(grid.phases)-phase grid connection (grid.phases)")
        }
        let maxNode = try f.required("max_current", "the connector's limit in A per phase")
        let maxAmps = try current(maxNode, f.sub("max_current"))
        if maxAmps > grid.maxCurrentAmps {
            throw r.error(maxNode, f.sub("max_current"),
                          "\(ConfigReader.format(maxAmps)) A is above the grid connection limit of \(ConfigReader.format(grid.maxCurrentAmps)) A (grid.max_current)")
        }

        let kind: ConnectorDescription.Kind
        if type == "cable" {
            let n = try f.required("cable_rating", "the fixed cable's rating in A")
            let rating = try current(n, f.sub("cable_rating"))
            if maxAmps > rating {
                throw r.error(maxNode, f.sub("max_current"),
                              "\(ConfigReader.format(maxAmps)) A is above the fixed cable's rating of \(ConfigReader.format(rating)) A (cable_rating)")
            }
            kind = .fixedCable(ratingAmps: rating)
            for forbidden in ["proximity", "lock"] {
                if let n = f.optional(forbidden) {
                    throw r.error(n, f.sub(forbidden), "a fixed cable has no \(forbidden == "lock" ? "cable lock" : "proximity pilot"): remove it (type: cable)")
                }
            }
        } else {
            if let n = f.optional("cable_rating") {
                throw r.error(n, f.sub("cable_rating"), "only for type: cable; a socket reads the cable's rating from the proximity pilot")
            }
            kind = .socket
        }

        let pilot = try pilot(f.required("pilot", "{pwm, high, low}"), f.sub("pilot"))
        var proximity: ProximityDescription?
        var lock: CableLockDescription?
        if kind == .socket {
            proximity = try self.proximity(f.required("proximity", "{adc, pull_up_ohms, supply_volts} (a Type 2 socket reads the cable's ampacity)"), f.sub("proximity"))
            lock = try self.lock(f.required("lock", "{drive, feedback, …} (a Type 2 socket locks the plug)"), f.sub("lock"))
        }
        let contactor = try contactor(f.required("contactor", "{coil or coils, feedback, …}"), f.sub("contactor"), phases: phases)
        var rcd: RCDDescription?
        if let n = f.optional("rcd") {
            var rf = try r.mapping(n, f.sub("rcd"))
            let trip = try gpio(rf.required("trip", "the RCD/RDC-DD trip input"), rf.sub("trip"), input: true)
            let test = try rf.optional("test").map { n throws(BoardFileError) in try gpio(n, rf.sub("test"), input: false) }
            try rf.finish()
            rcd = RCDDescription(trip: trip, test: test)
        }
        let meter = try f.optional("meter").map { n throws(BoardFileError) in try self.meter(n, f.sub("meter"), atConnector: true) }
        let led = try f.optional("led").map { n throws(BoardFileError) in try self.led(n, f.sub("led")) }
        try f.finish()
        return ConnectorDescription(id: id, kind: kind, phases: phases, maxCurrentAmps: maxAmps, pilot: pilot,
                                    proximity: proximity, lock: lock, contactor: contactor, rcd: rcd, meter: meter, led: led)
    }

    func current(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> Double {
        guard let a = node.double, a.isFinite else {
            throw r.error(node, path, "expected a current in A, found \(node.kindDescription)")
        }
        if a > BoardLoader.maxSignallableAmps {
            throw r.error(node, path, "\(ConfigReader.format(a)) A is above 80 A, the most IEC 61851-1 AC charging can offer")
        }
        if a < BoardLoader.minSignallableAmps {
            throw r.error(node, path, "\(ConfigReader.format(a)) A is below 6 A, the least IEC 61851-1 allows to offer")
        }
        return a
    }

    mutating func pilot(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> PilotDescription {
        var f = try r.mapping(node, path)
        let pwm = try self.pwm(f.required("pwm", "the CP PWM channel"), f.sub("pwm"))
        let high = try adc(f.required("high", "the ADC channel reading the CP high level"), f.sub("high"))
        let low = try f.optional("low").map { n throws(BoardFileError) in try adc(n, f.sub("low")) }
        // Up to 2 kHz: faster only burns CPU (a CP state lasts far longer than 0.5 ms); at least
        // 50 Hz so 3 debounce samples stay well inside IEC 61851-1's 100 ms.
        let rate = try f.optional("sample_rate_hz").map { n throws(BoardFileError) in
            try r.double(n, f.sub("sample_rate_hz"), in: 50...2_000, unit: "Hz")
        }
        try f.finish()
        return PilotDescription(pwm: pwm, high: high, low: low, sampleRateHz: rate)
    }

    mutating func proximity(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> ProximityDescription {
        var f = try r.mapping(node, path)
        let adc = try adc(f.required("adc", "the ADC channel on PP"), f.sub("adc"))
        let pullUp = try r.double(f.required("pull_up_ohms", "the PP pull-up resistor in Ω"), f.sub("pull_up_ohms"), in: 100...100_000, unit: "Ω")
        let supply = try r.double(f.required("supply_volts", "the voltage the pull-up goes to"), f.sub("supply_volts"), in: 1...24, unit: "V")
        try f.finish()
        return ProximityDescription(adc: adc, pullUpOhms: pullUp, supplyVolts: supply)
    }

    mutating func lock(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> CableLockDescription {
        var f = try r.mapping(node, path)
        let drive = try gpio(f.required("drive", "the lock drive output"), f.sub("drive"), input: false)
        var mode = CableLockDescription.Drive.level
        if let n = f.optional("mode") {
            let m = try r.string(n, f.sub("mode"))
            switch m {
            case "level": mode = .level
            case "pulse":
                let p = try r.int(f.required("pulse_ms", "the lock motor pulse length in ms"), f.sub("pulse_ms"), in: 10...5000, unit: "ms")
                mode = .pulse(.milliseconds(Int64(p)))
            default: throw r.error(n, f.sub("mode"), "expected level or pulse, found \(n.kindDescription)")
            }
        }
        if mode == .level, let n = f.optional("pulse_ms") {
            throw r.error(n, f.sub("pulse_ms"), "only for mode: pulse")
        }
        let unlock = try f.optional("unlock").map { n throws(BoardFileError) in try gpio(n, f.sub("unlock"), input: false) }
        if mode == .level, unlock != nil, let n = f.optional("unlock") {
            throw r.error(n, f.sub("unlock"), "only for mode: pulse (a level-driven lock unlocks by releasing drive)")
        }
        if case .pulse = mode, unlock == nil, let n = f.optional("mode") {
            throw r.error(n, f.sub("unlock"), "required field missing: mode: pulse needs an unlock output (the unlock pulse)")
        }
        let feedback = try f.optional("feedback").map { n throws(BoardFileError) in try gpio(n, f.sub("feedback"), input: true) }
        var timeout = EVSEDuration.milliseconds(1000)
        if let n = f.optional("timeout_ms") { timeout = .milliseconds(Int64(try r.int(n, f.sub("timeout_ms"), in: 50...10_000, unit: "ms"))) }
        try f.finish()
        return CableLockDescription(drive: drive, unlock: unlock, mode: mode, feedback: feedback, timeout: timeout)
    }

    mutating func contactor(_ node: ConfigNode, _ path: String, phases: Int) throws(BoardFileError) -> ContactorDescription {
        var f = try r.mapping(node, path)
        let which = try f.exactlyOne(of: ["coil", "coils"], "the relay coil output(s)")
        var coils: [GPIOLineRef] = []
        if which == "coil" {
            coils = [try gpio(f.required("coil", "a GPIO output"), f.sub("coil"), input: false)]
        } else {
            let listNode = try f.required("coils", "a list of GPIO outputs")
            let items = try r.list(listNode, f.sub("coils"))
            if items.isEmpty { throw r.error(listNode, f.sub("coils"), "expected at least one coil output") }
            for (i, item) in items.enumerated() { coils.append(try gpio(item, f.sub("coils") + "[\(i)]", input: false)) }
        }
        let feedback = try f.optional("feedback").map { n throws(BoardFileError) in try gpio(n, f.sub("feedback"), input: true) }
        var timeout = EVSEDuration.milliseconds(300)
        if let n = f.optional("feedback_timeout_ms") {
            timeout = .milliseconds(Int64(try r.int(n, f.sub("feedback_timeout_ms"), in: 10...5000, unit: "ms")))
        }
        var phaseSwitch: PhaseSwitchDescription?
        if let n = f.optional("phase_switch") {
            if phases != 3 {
                throw r.error(n, f.sub("phase_switch"), "a 1-phase/3-phase switch needs phases: 3 on this connector")
            }
            phaseSwitch = try self.phaseSwitch(n, f.sub("phase_switch"))
        }
        try f.finish()
        return ContactorDescription(coils: coils, feedback: feedback, feedbackTimeout: timeout, phaseSwitch: phaseSwitch)
    }

    /// A GPIO line plus the relay's wiring. Both facts are required: a guessed polarity is how
    /// a 22 kW charger ends up charging on one phase.
    mutating func phaseSwitch(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> PhaseSwitchDescription {
        var f = try r.mapping(node, path)
        if let n = f.optional("active_low") {
            throw r.error(n, f.sub("active_low"), "the relay's polarity is three_phase_level (high or low): remove active_low")
        }
        let levelNode = try f.required("three_phase_level", "high or low: the line level that selects three phases")
        guard let level = levelNode.scalarText.flatMap(PhaseSwitchWiring.Level.init(rawValue:)), !levelNode.isNull else {
            throw r.error(levelNode, f.sub("three_phase_level"), "expected high or low (the line level that selects three phases), found \(levelNode.kindDescription)")
        }
        let unpoweredNode = try f.required("unpowered", "one or three: the phases the relay connects while its coil has no power")
        let unpowered: PhaseCount
        switch unpoweredNode.isNull ? nil : unpoweredNode.scalarText {
        case "one": unpowered = .one
        case "three": unpowered = .three
        default:
            throw r.error(unpoweredNode, f.sub("unpowered"), "expected one or three (the phases the relay connects while its coil has no power), found \(unpoweredNode.kindDescription)")
        }
        let line = try gpio(node, path, input: false, alsoAllowed: ["three_phase_level", "unpowered"])
        return PhaseSwitchDescription(line: line, wiring: PhaseSwitchWiring(threePhaseLevel: level, unpowered: unpowered))
    }

    /// `atConnector`: a connector's meter, which may have an `idle_poll_ms` (the grid meter's
    /// readings steer every session, so it is read at one pace).
    mutating func meter(_ node: ConfigNode, _ path: String, atConnector: Bool) throws(BoardFileError) -> MeterDescription {
        var f = try r.mapping(node, path)
        let busNode = try f.required("bus", "the name of a bus under modbus:")
        let bus = try r.string(busNode, f.sub("bus"))
        guard buses.contains(where: { $0.name == bus }) else {
            let declared = buses.isEmpty ? "none declared: add a modbus: section" : "declared: " + buses.map(\.name).joined(separator: ", ")
            throw r.error(busNode, f.sub("bus"), "no Modbus bus named \"\(bus)\" (\(declared))")
        }
        let unitNode = try f.required("unit", "the meter's Modbus unit id (1…247)")
        let unit = try r.int(unitNode, f.sub("unit"), in: 1...247)
        if let other = meterUnits["\(bus)/\(unit)"] {
            throw r.error(unitNode, f.sub("unit"), "unit \(unit) on bus \(bus) is already used by \(other)")
        }
        meterUnits["\(bus)/\(unit)"] = path
        let mapNode = try f.required("map", "a meter map name (e.g. sdm630) or path")
        let mapName = try r.string(mapNode, f.sub("map"))
        guard let mapFile = MeterMapLoader.locate(mapName, metersDirectory: metersDirectory) else {
            throw r.error(mapNode, f.sub("map"), "no meter map \"\(mapName)\" (looked for \(TextFile.join(metersDirectory, mapName + ".yaml")))")
        }
        let map = try MeterMapLoader.load(path: mapFile)
        var poll = EVSEDuration.milliseconds(1000)
        if let n = f.optional("poll_ms") { poll = .milliseconds(Int64(try r.int(n, f.sub("poll_ms"), in: 100...60_000, unit: "ms"))) }
        var idlePoll = max(poll, MeterDescription.defaultIdlePollInterval)
        if atConnector, let n = f.optional("idle_poll_ms") {
            let pollMs = Int(poll.microseconds / 1_000)
            idlePoll = .milliseconds(Int64(try r.int(n, f.sub("idle_poll_ms"), in: pollMs...60_000, unit: "ms")))
        }
        if !atConnector { idlePoll = poll }
        try f.finish()
        return MeterDescription(bus: bus, unit: UInt8(unit), map: map, mapFile: mapFile, pollInterval: poll,
                                idlePollInterval: idlePoll)
    }

    mutating func led(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> StatusLEDDescription {
        var f = try r.mapping(node, path)
        var led = StatusLEDDescription()
        led.red = try f.optional("red").map { n throws(BoardFileError) in try ledChannel(n, f.sub("red")) }
        led.green = try f.optional("green").map { n throws(BoardFileError) in try ledChannel(n, f.sub("green")) }
        led.blue = try f.optional("blue").map { n throws(BoardFileError) in try ledChannel(n, f.sub("blue")) }
        try f.finish()
        if led.red == nil, led.green == nil, led.blue == nil {
            throw r.error(node, path, "expected at least one of red, green, blue")
        }
        return led
    }

    /// `{pwm: {chip, channel} | {name}}` for a dimmable channel, `{led_class: {name}}` for an
    /// LED class device, else a GPIO line.
    mutating func ledChannel(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> LEDChannelRef {
        if node["led_class"] != nil {
            var f = try r.mapping(node, path)
            let ledNode = try f.required("led_class", "the LED class device")
            try f.finish()
            return .kernel(try kernelLED(ledNode, f.sub("led_class")))
        }
        guard node["pwm"] != nil else { return .gpio(try gpio(node, path, input: false)) }
        var f = try r.mapping(node, path)
        let pwmNode = try f.required("pwm", "the PWM channel")
        try f.finish()
        return .pwm(try pwm(pwmNode, f.sub("pwm")))
    }

    /// `{name: …}`: the directory name under /sys/class/leds (e.g. `evse:green:status`), or the
    /// simulator's LED name (`c1.led.green.class`).
    mutating func kernelLED(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> KernelLEDRef {
        var f = try r.mapping(node, path)
        let nameNode = try f.required("name", isSim ? "the simulator's LED name, e.g. c1.led.green.class" : "the LED's name under /sys/class/leds, e.g. evse:green:status")
        let name = try r.string(nameNode, f.sub("name"))
        try f.finish()
        if name.isEmpty || name.contains("/") || name.contains(" ") || name == "." || name == ".." {
            throw r.error(nameNode, f.sub("name"), isSim
                ? "expected a simulator LED name without spaces, found \"\(name)\""
                : "expected the LED's directory name under /sys/class/leds (no slashes or spaces), found \"\(name)\"")
        }
        let address: LEDAddress = isSim ? .named(name) : .sysfs(name)
        try claim("led " + address.description, path, line: node.line)
        return KernelLEDRef(address: address, line: node.line)
    }

    // MARK: Station

    mutating func station(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> StationDescription {
        var f = try r.mapping(node, path)
        var s = StationDescription()
        if let n = f.optional("rfid") {
            let rp = f.sub("rfid")
            var rf = try r.mapping(n, rp)
            let kind = try rf.exactlyOne(of: ["wiegand", "hid"], "the reader's interface")
            if kind == "wiegand" {
                let wp = rf.sub("wiegand")
                var w = try r.mapping(rf.required("wiegand", "{d0, d1, bits}"), wp)
                let d0 = try gpio(w.required("d0", "the Wiegand D0 input"), w.sub("d0"), input: true, edges: true)
                let d1 = try gpio(w.required("d1", "the Wiegand D1 input"), w.sub("d1"), input: true, edges: true)
                let bits = try r.int(w.required("bits", "the frame length: 26, 34 or raw 4…64"), w.sub("bits"), in: 4...64, unit: "bits")
                var timeout = EVSEDuration.milliseconds(25)
                if let t = w.optional("timeout_ms") { timeout = .milliseconds(Int64(try r.int(t, w.sub("timeout_ms"), in: 5...500, unit: "ms"))) }
                try w.finish()
                s.rfid = .wiegand(d0: d0, d1: d1, bits: bits, frameTimeout: timeout)
            } else {
                let hp = rf.sub("hid")
                var h = try r.mapping(rf.required("hid", "{device}"), hp)
                let devNode = try h.required("device", isSim ? "the simulator's key source (rfid.keys)" : "the evdev node, e.g. /dev/input/by-id/…-event-kbd")
                let device = try r.string(devNode, h.sub("device"))
                if !isSim, !device.hasPrefix("/dev/input/") {
                    throw r.error(devNode, h.sub("device"), "expected an input device under /dev/input/, found \"\(device)\"")
                }
                try h.finish()
                try claim("keys \(device)", h.sub("device"), line: devNode.line)
                s.rfid = .hid(device: device)
            }
            try rf.finish()
        }
        if let n = f.optional("display") {
            let dp = f.sub("display")
            var df = try r.mapping(n, dp)
            let kind = try df.exactlyOne(of: ["hd44780", "ssd1306", "console"], "the display type")
            if kind == "hd44780" {
                var h = try r.mapping(df.required("hd44780", "{i2c, address, columns, rows}"), df.sub("hd44780"))
                let busNode = try h.required("i2c", isSim ? "the I2C bus (sim)" : "the I2C bus: N or /dev/i2c-N")
                var bus: String
                if let i = busNode.int {
                    guard (0...255).contains(i) else { throw r.error(busNode, h.sub("i2c"), "expected a bus number 0…255, found \(i)") }
                    bus = "/dev/i2c-\(i)"
                } else {
                    bus = try r.string(busNode, h.sub("i2c"))
                }
                if !isSim, !bus.hasPrefix("/dev/i2c-") {
                    throw r.error(busNode, h.sub("i2c"), "expected a bus number or /dev/i2c-N, found \"\(bus)\"")
                }
                let address = try r.int(h.required("address", "the PCF8574 address, e.g. 0x27"), h.sub("address"), in: 0x03...0x77)
                let colNode = try h.required("columns", "16 or 20 (8, 24, 40 also)")
                let columns = try r.int(colNode, h.sub("columns"), in: 8...40)
                if ![8, 16, 20, 24, 40].contains(columns) {
                    throw r.error(colNode, h.sub("columns"), "expected 8, 16, 20, 24 or 40 columns, found \(columns)")
                }
                let rowNode = try h.required("rows", "1, 2 or 4")
                let rows = try r.int(rowNode, h.sub("rows"), in: 1...4)
                if rows == 3 { throw r.error(rowNode, h.sub("rows"), "expected 1, 2 or 4 rows, found 3") }
                var rom = HD44780Charset.ROM.a00
                if let romNode = h.optional("rom") {
                    let text = try r.string(romNode, h.sub("rom"))
                    guard let parsed = HD44780Charset.ROM(rawValue: text.uppercased()) else {
                        throw r.error(romNode, h.sub("rom"), "expected the character ROM A00 (Japanese) or A02 (European), found \(text)")
                    }
                    rom = parsed
                }
                try h.finish()
                try claim("i2c \(bus) 0x\(String(address, radix: 16))", df.sub("hd44780"), line: busNode.line)
                s.display = .hd44780(bus: bus, address: UInt8(address), columns: columns, rows: rows, rom: rom)
            } else if kind == "ssd1306" {
                var h = try r.mapping(df.required("ssd1306", "{i2c, address}"), df.sub("ssd1306"))
                let busNode = try h.required("i2c", isSim ? "the I2C bus (sim)" : "the I2C bus: N or /dev/i2c-N")
                var bus: String
                if let i = busNode.int {
                    guard (0...255).contains(i) else { throw r.error(busNode, h.sub("i2c"), "expected a bus number 0…255, found \(i)") }
                    bus = "/dev/i2c-\(i)"
                } else {
                    bus = try r.string(busNode, h.sub("i2c"))
                }
                if !isSim, !bus.hasPrefix("/dev/i2c-") {
                    throw r.error(busNode, h.sub("i2c"), "expected a bus number or /dev/i2c-N, found \"\(bus)\"")
                }
                let addressNode = try h.required("address", "0x3C or 0x3D")
                let address = try r.int(addressNode, h.sub("address"), in: 0x03...0x77)
                guard address == 0x3C || address == 0x3D else {
                    throw r.error(addressNode, h.sub("address"), "an SSD1306 answers at 0x3C or 0x3D, found 0x\(String(address, radix: 16))")
                }
                try h.finish()
                try claim("i2c \(bus) 0x\(String(address, radix: 16))", df.sub("ssd1306"), line: busNode.line)
                s.display = .ssd1306(bus: bus, address: UInt8(address))
            } else {
                let c = try df.required("console", "{}")
                let cf = try r.mapping(c, df.sub("console"))
                try cf.finish()
                s.display = .console
            }
            try df.finish()
        }
        s.led = try f.optional("led").map { n throws(BoardFileError) in try led(n, f.sub("led")) }
        s.emergencyStop = try f.optional("estop").map { n throws(BoardFileError) in try gpio(n, f.sub("estop"), input: true) }
        s.overTemperature = try f.optional("overtemp").map { n throws(BoardFileError) in try gpio(n, f.sub("overtemp"), input: true) }
        try f.finish()
        return s
    }

    // MARK: Primitives

    /// Records that `key` (a line, channel, device) is wired to `field`; a second use is an error.
    mutating func claim(_ key: String, _ field: String, line: Int) throws(BoardFileError) {
        if let first = used[key] {
            throw r.error(line: line, field, "\(key) is already used by \(first.field) (line \(first.line))")
        }
        used[key] = (field, line)
    }

    /// `alsoAllowed`: keys of the same mapping that the caller reads (a relay's wiring).
    mutating func gpio(_ node: ConfigNode, _ path: String, input: Bool, edges: Bool = false,
                       alsoAllowed: [String] = []) throws(BoardFileError) -> GPIOLineRef {
        var f = try r.mapping(node, path)
        for key in alsoAllowed { _ = f.optional(key) }
        let which = try f.exactlyOne(of: ["name", "chip"], "{name: LINE_NAME} or {chip: gpiochipN, line: N}")
        let address: GPIOLineAddress
        if which == "name" {
            address = .name(try r.string(f.required("name", "the GPIO line name"), f.sub("name")))
        } else {
            let chipNode = try f.required("chip", "gpiochipN")
            if isSim { throw r.error(chipNode, f.sub("chip"), "the sim backend has named lines only: expected {name: …} (Hardware-sim/PROTOCOL.md)") }
            var chip: String
            if let i = chipNode.int, i >= 0 { chip = "gpiochip\(i)" } else { chip = try r.string(chipNode, f.sub("chip")) }
            if chip.hasPrefix("/dev/") { chip.removeFirst(5) }
            guard chip.hasPrefix("gpiochip") else {
                throw r.error(chipNode, f.sub("chip"), "expected gpiochipN or /dev/gpiochipN, found \"\(chip)\"")
            }
            let offset = try r.int(f.required("line", "the line offset on the chip"), f.sub("line"), in: 0...1023)
            address = .chipOffset(chip: chip, offset: UInt32(offset))
        }
        var activeLow = false
        if let n = f.optional("active_low") { activeLow = try r.bool(n, f.sub("active_low")) }
        var bias = GPIOBias.asIs
        if let n = f.optional("bias") { bias = try r.oneOf(n, f.sub("bias"), GPIOBias.self) }
        var debounce = EVSEDuration.zero
        if let n = f.optional("debounce_ms") {
            if !input { throw r.error(n, f.sub("debounce_ms"), "only inputs are debounced; this line is an output") }
            debounce = .milliseconds(Int64(try r.int(n, f.sub("debounce_ms"), in: 0...10_000, unit: "ms")))
        }
        if let n = f.optional("line"), which == "name" {
            throw r.error(n, f.sub("line"), "give either name or chip + line, not both")
        }
        try f.finish()
        try claim("gpio " + address.description, path, line: node.line)
        return GPIOLineRef(address: address, activeLow: activeLow, bias: bias, debounce: debounce, line: node.line)
    }

    mutating func pwm(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> PWMRef {
        var f = try r.mapping(node, path)
        let which = try f.exactlyOne(of: ["name", "chip"], "{chip: N, channel: N} (sysfs pwmchipN/pwmM) or {name: …} (sim)")
        let address: PWMAddress
        if which == "name" {
            let n = try f.required("name", "the PWM channel name")
            if !isSim { throw r.error(n, f.sub("name"), "named PWM channels exist only on the sim backend: expected {chip: N, channel: N}") }
            address = .named(try r.string(n, f.sub("name")))
        } else {
            let chipNode = try f.required("chip", "the pwmchip number")
            if isSim { throw r.error(chipNode, f.sub("chip"), "the sim backend has named channels only: expected {name: …}") }
            var chip: Int
            if let i = chipNode.int { chip = i } else {
                let s = try r.string(chipNode, f.sub("chip"))
                guard s.hasPrefix("pwmchip"), let i = Int(s.dropFirst(7)) else {
                    throw r.error(chipNode, f.sub("chip"), "expected a pwmchip number (0) or pwmchipN, found \"\(s)\"")
                }
                chip = i
            }
            guard (0...255).contains(chip) else { throw r.error(chipNode, f.sub("chip"), "expected 0…255, found \(chip)") }
            let channel = try r.int(f.required("channel", "the channel on the chip"), f.sub("channel"), in: 0...255)
            address = .sysfs(chip: UInt32(chip), channel: UInt32(channel))
        }
        var polarity = PWMPolarity.normal
        if let n = f.optional("polarity") {
            let s = try r.string(n, f.sub("polarity"))
            guard let p = PWMPolarity(rawValue: s) else { throw r.error(n, f.sub("polarity"), "expected normal or inversed, found \(n.kindDescription)") }
            polarity = p
        }
        if let n = f.optional("channel"), which == "name" {
            throw r.error(n, f.sub("channel"), "give either name or chip + channel, not both")
        }
        try f.finish()
        try claim("pwm " + address.description, path, line: node.line)
        return PWMRef(address: address, polarity: polarity, line: node.line)
    }

    mutating func adc(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> ADCRef {
        var f = try r.mapping(node, path)
        let which = try f.exactlyOne(of: ["name", "iio"], "{iio: iio:deviceN, channel: voltageN} or {name: …} (sim)")
        let address: ADCAddress
        if which == "name" {
            let n = try f.required("name", "the ADC channel name")
            if !isSim { throw r.error(n, f.sub("name"), "named ADC channels exist only on the sim backend: expected {iio: iio:deviceN, channel: voltageN}") }
            address = .named(try r.string(n, f.sub("name")))
        } else {
            let devNode = try f.required("iio", "the IIO device: iio:deviceN or its name (e.g. ads1115)")
            if isSim { throw r.error(devNode, f.sub("iio"), "the sim backend has named channels only: expected {name: …}") }
            let device = try r.string(devNode, f.sub("iio"))
            let channelNode = try f.required("channel", "the IIO channel, e.g. voltage0")
            let channel = try r.string(channelNode, f.sub("channel"))
            guard channel.hasPrefix("voltage") else {
                throw r.error(channelNode, f.sub("channel"), "expected a voltage channel (voltage0, voltage1, …), found \"\(channel)\"")
            }
            address = .iio(device: device, channel: channel)
        }
        if let n = f.optional("channel"), which == "name" {
            throw r.error(n, f.sub("channel"), "give either name or iio + channel, not both")
        }
        var cal = ADCCalibration.identity
        if let n = f.optional("gain") {
            cal.gain = try r.double(n, f.sub("gain"), in: -1000...1000)
            if cal.gain == 0 { throw r.error(n, f.sub("gain"), "expected a non-zero divider gain, found 0") }
        }
        if let n = f.optional("offset") { cal.offset = try r.double(n, f.sub("offset"), in: -100...100, unit: "V") }
        try f.finish()
        try claim(address.description, path, line: node.line)
        return ADCRef(address: address, calibration: cal, line: node.line)
    }
}
