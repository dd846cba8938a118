import ConfigFile
import Drivers
import HAL

/// One wired primitive of a board, for `evsectl board check` and for looking a line up by the
/// name a hardware engineer knows it by (`c1.contactor.coil`, `estop`).
public struct HardwareMapEntry: Sendable, Equatable {
    public enum Primitive: Sendable, Equatable {
        case gpioIn(GPIOLineRef)
        case gpioOut(GPIOLineRef)
        case pwm(PWMRef)
        case kernelLED(KernelLEDRef)
        case adc(ADCRef)
        case modbus(bus: String, unit: UInt8, map: String)
        case i2c(bus: String, address: UInt8)
        case keys(device: String)
    }

    /// Dotted part name: `c1.contactor.coil`, `c2.pilot.high`, `station.rfid.d0`.
    public var part: String
    public var primitive: Primitive

    public var kindLabel: String {
        switch primitive {
        case .gpioIn: return "gpio in"
        case .gpioOut: return "gpio out"
        case .pwm: return "pwm"
        case .kernelLED: return "led"
        case .adc: return "adc"
        case .modbus: return "modbus"
        case .i2c: return "i2c"
        case .keys: return "keys"
        }
    }

    public var detail: String {
        switch primitive {
        case let .gpioIn(g), let .gpioOut(g): return g.description
        case let .pwm(p): return p.description
        case let .kernelLED(l): return l.description
        case let .adc(a): return a.description
        case let .modbus(bus, unit, map): return "bus \(bus) unit \(unit), map \(map)"
        case let .i2c(bus, address): return "\(bus) address 0x\(String(address, radix: 16))"
        case let .keys(device): return device
        }
    }
}

extension BoardDescription {
    /// Every primitive the board wires, connectors first, in a stable order.
    public var hardwareMap: [HardwareMapEntry] {
        var out: [HardwareMapEntry] = []
        func add(_ part: String, _ p: HardwareMapEntry.Primitive) { out.append(.init(part: part, primitive: p)) }
        func addLED(_ prefix: String, _ led: StatusLEDDescription?) {
            guard let led else { return }
            for (colour, channel) in [("red", led.red), ("green", led.green), ("blue", led.blue)] {
                switch channel {
                case let .gpio(g)?: add("\(prefix).led.\(colour)", .gpioOut(g))
                case let .pwm(p)?: add("\(prefix).led.\(colour)", .pwm(p))
                case let .kernel(l)?: add("\(prefix).led.\(colour)", .kernelLED(l))
                case nil: break
                }
            }
        }
        for c in connectors {
            let p = "c\(c.id)"
            add("\(p).pilot.pwm", .pwm(c.pilot.pwm))
            add("\(p).pilot.high", .adc(c.pilot.high))
            if let low = c.pilot.low { add("\(p).pilot.low", .adc(low)) }
            if let pp = c.proximity { add("\(p).proximity", .adc(pp.adc)) }
            if let lock = c.lock {
                add("\(p).lock.drive", .gpioOut(lock.drive))
                if let u = lock.unlock { add("\(p).lock.unlock", .gpioOut(u)) }
                if let fb = lock.feedback { add("\(p).lock.feedback", .gpioIn(fb)) }
            }
            for (i, coil) in c.contactor.coils.enumerated() {
                add(c.contactor.coils.count == 1 ? "\(p).contactor.coil" : "\(p).contactor.coil\(i + 1)", .gpioOut(coil))
            }
            if let fb = c.contactor.feedback { add("\(p).contactor.feedback", .gpioIn(fb)) }
            if let ps = c.contactor.phaseSwitch { add("\(p).contactor.phase_switch", .gpioOut(ps.line)) }
            if let rcd = c.rcd {
                add("\(p).rcd.trip", .gpioIn(rcd.trip))
                if let t = rcd.test { add("\(p).rcd.test", .gpioOut(t)) }
            }
            if let m = c.meter { add("\(p).meter", .modbus(bus: m.bus, unit: m.unit, map: m.map.name)) }
            addLED(p, c.led)
        }
        switch station.rfid {
        case let .wiegand(d0, d1, _, _)?:
            add("station.rfid.d0", .gpioIn(d0))
            add("station.rfid.d1", .gpioIn(d1))
        case let .hid(device)?:
            add("station.rfid", .keys(device: device))
        case nil: break
        }
        if case let .hd44780(bus, address, _, _, _)? = station.display { add("station.display", .i2c(bus: bus, address: address)) }
        if case let .ssd1306(bus, address)? = station.display { add("station.display", .i2c(bus: bus, address: address)) }
        addLED("station", station.led)
        if let g = station.emergencyStop { add("station.estop", .gpioIn(g)) }
        if let g = station.overTemperature { add("station.overtemp", .gpioIn(g)) }
        if let m = grid.meter { add("grid.meter", .modbus(bus: m.bus, unit: m.unit, map: m.map.name)) }
        return out
    }

    /// A GPIO line by part name (`c1.contactor.coil`), by line name, or as `CHIP:LINE`.
    public func gpioLine(_ reference: String) -> (part: String, line: GPIOLineRef, isOutput: Bool)? {
        for e in hardwareMap {
            switch e.primitive {
            case let .gpioIn(g), let .gpioOut(g):
                let isOut: Bool
                if case .gpioOut = e.primitive { isOut = true } else { isOut = false }
                if e.part == reference { return (e.part, g, isOut) }
                switch g.address {
                case let .name(n) where n == reference: return (e.part, g, isOut)
                case let .chipOffset(chip, offset) where reference == "\(chip):\(offset)": return (e.part, g, isOut)
                default: break
                }
            default: break
            }
        }
        return nil
    }

    /// The resolved hardware map as text, one primitive per line.
    public var summary: String {
        var lines = ["board: \(model)", "file: \(file)", "backend: \(backend)",
                     "grid: \(ConfigReader.format(grid.maxCurrentAmps)) A × \(grid.phases) phases"]
        if let m = grid.meter {
            lines.append("grid meter: \(m.map.name) on \(m.bus) unit \(m.unit), margin \(ConfigReader.format(grid.marginAmps)) A, fallback \(ConfigReader.format(grid.fallbackCurrentAmps)) A per connector")
        }
        for b in modbusBuses {
            switch b.link {
            case let .tcp(host, port): lines.append("modbus \(b.name): tcp \(host):\(port), timeout \(b.responseTimeout)")
            case let .rtu(device, baud, parity, dataBits, stopBits, rs485):
                lines.append("modbus \(b.name): rtu \(device) \(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits)\(rs485 ? " rs485" : ""), timeout \(b.responseTimeout)")
            }
        }
        for c in connectors {
            var kind = "Type 2 socket"
            if case let .fixedCable(rating) = c.kind { kind = "fixed cable \(ConfigReader.format(rating)) A" }
            var line = "connector \(c.id): \(kind), \(c.phases) phase(s), max \(ConfigReader.format(c.maxCurrentAmps)) A"
            if let w = c.contactor.phaseSwitch?.wiring {
                line += ", phase switch: \(w.threePhaseLevel.rawValue) = 3 phases, unpowered = \(w.unpowered == .one ? "1 phase" : "3 phases")"
            }
            lines.append(line)
        }
        switch station.rfid {
        case let .wiegand(_, _, bits, _)?: lines.append("rfid: wiegand \(bits) bit")
        case let .hid(device)?: lines.append("rfid: hid \(device)")
        case nil: lines.append("rfid: none")
        }
        switch station.display {
        case let .hd44780(_, _, columns, rows, rom)?: lines.append("display: hd44780 \(columns)x\(rows) ROM \(rom.rawValue)")
        case .ssd1306?: lines.append("display: ssd1306 128x64")
        case .console?: lines.append("display: console")
        case nil: lines.append("display: none")
        }
        let map = hardwareMap
        let width = map.map(\.part.count).max() ?? 0
        for e in map {
            let pad = String(repeating: " ", count: width - e.part.count)
            let kindPad = String(repeating: " ", count: max(0, 8 - e.kindLabel.count))
            lines.append("  \(e.part)\(pad)  \(e.kindLabel)\(kindPad)  \(e.detail)")
        }
        return lines.joined(separator: "\n")
    }
}
