import Drivers
import HAL

extension World {
    /// `GET /api/state`: the shape the control API contract fixes, plus a few extra fields.
    public func stateJSON() -> JSONValue {
        let station = stationFaults.sorted().map { JSONValue.string($0.rawValue) }
        let connectorsJSON: [JSONValue] = connectors.indices.map { i in
            let c = connectors[i]
            let (high, low) = World.pilotLevels(c)
            let power = c.currentA.reduce(0, +) * config.nominalVoltage
            let ev: JSONValue
            if let e = c.ev {
                ev = .object([
                    ("plugged", .bool(true)), ("state", .string(e.request.rawValue)), ("soc", .double(World.round4(e.soc))),
                    ("full", .bool(e.full)), ("max_current_a", .double(e.profile.maxCurrentA)),
                    ("phases", .int(Int64(e.profile.phases))), ("capacity_wh", .double(e.profile.capacityWh)),
                    ("cable_a", c.cableA.map { .double($0) } ?? .null),
                ])
            } else {
                // cable_a: a cable left in the socket after the EV side was unplugged.
                ev = .object([("plugged", .bool(false)), ("state", .string("A")), ("soc", .null),
                              ("cable_a", c.cableA.map { .double($0) } ?? .null)])
            }
            let duty = c.pwm.configured ? c.pwm.highFraction * 100 : 100
            return .object([
                ("id", .int(Int64(c.id))),
                ("ev", ev),
                ("pilot", .object([
                    ("state", .string(c.pilotState.rawValue)),
                    ("duty_percent", .double(World.round1(duty))),
                    ("volts", .double(Double(high) / 1000)),
                    ("low_volts", .double(Double(low) / 1000)),
                    ("pwm_enabled", .bool(c.pwm.configured ? c.pwm.enabled : true)),
                    ("offered_current_a", .double(World.round1(c.pwm.configured ? c.pwm.offeredCurrentA : 0))),
                ])),
                ("contactor", .object([("commanded", .bool(c.coil)), ("closed", .bool(c.contactorClosed))])),
                ("lock", .object([("locked", .bool(c.locked)), ("commanded", .bool(c.lockDrive))])),
                ("meter", .object([
                    ("energy_wh", .double(World.round1(c.energyImportWh))),
                    ("power_w", .double(power.rounded())),
                    ("current_a", .array(c.currentA.map { .double(World.round1($0)) })),
                    ("voltage_v", .array([.double(config.nominalVoltage), .double(config.nominalVoltage), .double(config.nominalVoltage)])),
                    ("online", .bool(!c.faults.contains(.meterOffline))),
                    ("model", .string(c.spec.meterMap.name)),
                ])),
                ("faults", .array((c.faults.sorted().map { JSONValue.string($0.rawValue) }) + station)),
                ("phases_switched", .int(c.threePhases ? 3 : 1)),
                ("phases_in_use", .int(Int64(c.currentA.filter { $0 > 0 }.count))),
                ("leds", .object(["red", "green", "blue"].map { ($0, .bool(c.leds[$0] ?? false)) })),
                ("led_brightness", .object(["red", "green", "blue"].map { colour in
                    (colour, .double(World.round1((c.ledBrightness(at: now)[colour] ?? 0) * 100) / 100))
                })),
                // A pattern an LED class device runs: [brightness, ms] points, repeated.
                ("led_pattern", .object(["red", "green", "blue"].map { colour in
                    (colour, c.ledPatterns[colour].map { run in
                        .array(run.points.map { .array([.double($0.brightness), .int(Int64($0.milliseconds))]) })
                    } ?? .null)
                })),
                ("rcd_test", .bool(c.rcdTest)),
            ])
        }
        return .object([
            ("model", .string(config.model)),
            ("time_us", .int(Int64(now.microseconds))),
            ("connectors", .array(connectorsJSON)),
            ("faults", .array(station)),
            ("grid", gridJSON()),
            ("display", .object([
                ("lines", .array(display.lines.map { .string($0) })),
                ("rows", .array(display.rowsText.map { .string($0) })),
                ("columns", .int(Int64(display.columns))),
                ("on", .bool(display.displayOn)),
                ("backlight", .bool(display.backlight)),
            ])),
            ("oled", oledJSON),
            ("firmware", .object([
                ("connected", .bool(firmwareSessions > 0)),
                ("sessions", .int(Int64(firmwareSessions))),
                ("name", firmwareName.map { .string($0) } ?? .null),
            ])),
        ])
    }

    static func round4(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }
}
