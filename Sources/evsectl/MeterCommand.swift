import ArgumentParser
import BoardAssembly
import BoardDescription
import Drivers
import HAL

struct MeterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "meter", abstract: "Energy meters over Modbus.",
                                                    subcommands: [Read.self])

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every measurand of a meter.",
            discussion: """
            Board mode: --board FILE [--connector N] reads the meters the board file wires \
            (every connector's by default).

            Direct mode: --map NAME-OR-PATH with --tcp HOST:PORT or --rtu DEVICE \
            [--baud --parity --stop-bits], and --unit N, reads any meter with a map from \
            --meters-dir (default Board/meters) or a path.

            --json prints one JSON object per reading, measurand → value in V, A, W, Wh, Hz; \
            in board mode without --connector, an object per connector id.
            """)

        @Option(name: .long, help: "The board description file.") var board: String?
        @Option(name: .long, help: "Connector id (board mode; default: every connector with a meter).") var connector: Int?
        @Option(name: .long, help: "Meter map: a name in --meters-dir (sdm630) or a file path.") var map: String?
        @Option(name: .long, help: "Directory of meter maps for --map NAME.") var metersDir = "Board/meters"
        @Option(name: .long, help: "Modbus TCP endpoint HOST:PORT.") var tcp: String?
        @Option(name: .long, help: "Modbus RTU serial device, e.g. /dev/ttyUSB0.") var rtu: String?
        @Option(name: .long, help: "RTU baud rate.") var baud = 9600
        @Option(name: .long, help: "RTU parity: none, even, odd.") var parity = "none"
        @Option(name: .long, help: "RTU stop bits: 1 or 2.") var stopBits = 1
        @Option(name: .long, help: "Modbus unit id (direct mode).") var unit = 1
        @Option(name: .long, help: "Response timeout in ms.") var timeoutMs = 500
        @Flag(name: .long, help: "Print JSON.") var json = false
        @Flag(name: .long, help: "Keep reading every --interval-ms.") var watch = false
        @Option(name: .customLong("for"), help: "With --watch: stop after this many seconds.") var seconds: Double?
        @Option(name: .customLong("interval-ms"), help: "With --watch: time between readings.") var intervalMilliseconds = 1000
        @Flag(name: .shortAndLong, help: "Log what is opened and sent.") var verbose = false

        func validate() throws {
            if board != nil {
                if map != nil || tcp != nil || rtu != nil { throw ValidationError("--board reads the board's meters: do not combine it with --map/--tcp/--rtu") }
            } else {
                guard map != nil else { throw ValidationError("give --board FILE, or --map with --tcp or --rtu") }
                guard (tcp == nil) != (rtu == nil) else { throw ValidationError("give exactly one of --tcp HOST:PORT and --rtu DEVICE") }
                guard (1...247).contains(unit) else { throw ValidationError("--unit must be 1…247") }
                guard ModbusBusConfig.Parity(rawValue: parity) != nil else { throw ValidationError("--parity must be none, even or odd") }
                guard stopBits == 1 || stopBits == 2 else { throw ValidationError("--stop-bits must be 1 or 2") }
            }
            guard timeoutMs > 0, intervalMilliseconds > 0 else { throw ValidationError("times must be positive") }
        }

        /// (label, meter) pairs to read.
        func meters() throws -> [(label: String, meter: EnergyMeter)] {
            bootstrapLogging(verbose: verbose)
            if let board {
                let description: BoardDescription
                do { description = try BoardLoader.load(path: board) } catch {
                    complain("\(error)")
                    throw Exit.boardFile
                }
                var chosen = description.connectors.filter { $0.meter != nil }
                if let connector {
                    guard let c = description.connector(id: connector) else {
                        complain("\(board): no connector \(connector)")
                        throw Exit.usage
                    }
                    guard c.meter != nil else {
                        complain("\(board): connector \(connector) has no meter")
                        throw Exit.usage
                    }
                    chosen = [c]
                }
                if chosen.isEmpty {
                    complain("\(board): no connector has a meter")
                    throw Exit.usage
                }
                // Meters are Modbus on every backend; no need to connect the rest of the board.
                let parts = PartFactory(board: description, backend: NoPrimitivesBackend(), modbus: BackendFactory.openModbusBus)
                var buses: [String: any ModbusBus] = [:]
                var out: [(String, EnergyMeter)] = []
                for c in chosen {
                    guard let m = c.meter else { continue }
                    let meter = try hardware("c\(c.id).meter") { () throws -> EnergyMeter? in
                        let bus = try buses[m.bus] ?? parts.modbusBus(m.bus)
                        buses[m.bus] = bus
                        return try parts.meter(c, bus: bus)
                    }
                    if let meter { out.append((String(c.id), meter)) }
                }
                return out
            }
            guard let map else { throw Exit.usage }
            let mapMap: MeterRegisterMap
            do {
                guard let path = MeterMapLoader.locate(map, metersDirectory: metersDir) else {
                    complain("no meter map \"\(map)\" (looked for \(metersDir)/\(map).yaml)")
                    throw Exit.boardFile
                }
                mapMap = try MeterMapLoader.load(path: path)
            } catch let e as BoardFileError {
                complain("\(e)")
                throw Exit.boardFile
            }
            let link: ModbusBusConfig.Link
            if let tcp {
                guard let colon = tcp.lastIndex(of: ":"), let port = Int(tcp[tcp.index(after: colon)...]), (1...65535).contains(port) else {
                    complain("--tcp \(tcp): expected HOST:PORT")
                    throw Exit.usage
                }
                link = .tcp(host: String(tcp[..<colon]), port: port)
            } else {
                link = .rtu(device: rtu ?? "", baud: baud, parity: ModbusBusConfig.Parity(rawValue: parity) ?? .none,
                            dataBits: 8, stopBits: stopBits, rs485: true)
            }
            let config = ModbusBusConfig(name: tcp ?? rtu ?? "meter", link: link, responseTimeout: .milliseconds(Int64(timeoutMs)))
            let bus = try hardware(config.name) { try BackendFactory.openModbusBus(config) }
            return [("unit \(unit)", EnergyMeter(bus: bus, unit: UInt8(unit), map: mapMap))]
        }

        func run() throws {
            let meters = try meters()
            let start = clock.now()
            while true {
                var failed = false
                var objects: [(String, String)] = []
                for (label, meter) in meters {
                    do {
                        let sample = try meter.read(at: clock.now())
                        if json {
                            objects.append((label, Self.jsonObject(sample)))
                        } else {
                            emit(Self.text(sample, label: meters.count > 1 || board != nil ? "connector \(label)" : label))
                        }
                    } catch {
                        failed = true
                        let which = board == nil ? "meter at \(meter.bus.name) unit \(meter.unit)"
                            : "connector \(label) meter (bus \(meter.bus.name) unit \(meter.unit))"
                        complain("\(which): no valid answer: \(Self.explainFault(error))")
                    }
                }
                if json, !objects.isEmpty {
                    if board != nil, connector == nil {
                        emit("{" + objects.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
                    } else {
                        for (_, o) in objects { emit(o) }
                    }
                }
                if !watch {
                    if failed { throw Exit.hardware }
                    return
                }
                if let seconds, (clock.now() - start).seconds >= seconds {
                    if failed { throw Exit.hardware }
                    return
                }
                sleep(milliseconds: intervalMilliseconds)
            }
        }

        static func explainFault(_ fault: MeterFault) -> String {
            switch fault {
            case let .readFailed(e), let .offline(_, e): return explain(e)
            default: return fault.description
            }
        }

        static let units: [Measurand: String] = [
            .voltageL1: "V", .voltageL2: "V", .voltageL3: "V", .currentL1: "A", .currentL2: "A", .currentL3: "A",
            .activePowerTotal: "W", .activePowerL1: "W", .activePowerL2: "W", .activePowerL3: "W",
            .energyImported: "Wh", .energyExported: "Wh", .frequency: "Hz", .powerFactor: "",
        ]

        static func text(_ sample: MeterReadout, label: String) -> String {
            var lines = ["\(label):"]
            for m in Measurand.allCases {
                guard let v = sample[m] else { continue }
                let name = m.rawValue + String(repeating: " ", count: max(0, 22 - m.rawValue.count))
                lines.append("  \(name)\(formatNumber(v, decimals: 3)) \(units[m] ?? "")")
            }
            return lines.joined(separator: "\n")
        }

        static func jsonObject(_ sample: MeterReadout) -> String {
            let fields = Measurand.allCases.compactMap { m -> String? in
                guard let v = sample[m] else { return nil }
                return "\"\(m.rawValue)\": \(jsonNumber(v))"
            }
            return "{" + fields.joined(separator: ", ") + "}"
        }

        /// Swift prints doubles as "230.0", "1e-05": both valid JSON numbers; non-finite is not.
        static func jsonNumber(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
    }
}

/// For commands that only talk Modbus: a backend that opens no other primitive, so reading a
/// meter does not need the simulator socket or the GPIO chips.
final class NoPrimitivesBackend: HardwareBackend {
    let backendName = "modbus-only"
    private func refuse(_ what: String) -> HardwareError {
        HardwareError(.invalidArgument, device: what, "not opened by this command")
    }
    func openGPIOLine(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any GPIOLine { throw refuse(address.description) }
    func openPWM(_ address: PWMAddress) throws -> any PWMOutput { throw refuse(address.description) }
    func openLED(_ address: LEDAddress) throws -> any KernelLED { throw refuse(address.description) }
    func openADC(_ address: ADCAddress) throws -> any ADCInput { throw refuse(address.description) }
    func openModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus { try BackendFactory.openModbusBus(config) }
    func openI2CDevice(bus: String, address: UInt8) throws -> any I2CDevice { throw refuse(bus) }
    func openKeyEventSource(device: String) throws -> any KeyEventSource { throw refuse(device) }
}
