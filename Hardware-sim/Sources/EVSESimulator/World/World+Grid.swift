import Drivers
import HAL

/// The building behind the grid connection: house load, PV, and the grid meter that sees them
/// together with the chargers.
extension World {
    /// What the chargers draw together, A per phase.
    public var chargersCurrentA: [Double] {
        (0..<3).map { p in connectors.reduce(0) { $0 + $1.currentA[p] } }
    }

    /// Signed current per phase at the connection point: + import, − export.
    public var gridCurrentA: [Double] {
        building.gridCurrentA(chargersA: chargersCurrentA, at: now, voltage: config.nominalVoltage)
    }

    /// What the grid meter measures now.
    public func gridMeterValues() -> [Measurand: Double] {
        building.meterValues(chargersA: chargersCurrentA, at: now, voltage: config.nominalVoltage, frequency: config.frequency)
    }

    /// House load per phase, A (one value for all three phases, or L1, L2, L3).
    public mutating func setHouseLoad(_ amps: [Double]) throws(SimulatorError) {
        let perPhase = amps.count == 1 ? [amps[0], amps[0], amps[0]] : amps
        try building.setHouseLoad(perPhase)
        emitGrid("house_load")
    }

    /// A fixed PV output, W; stops a running day curve.
    public mutating func setPV(watts: Double) throws(SimulatorError) {
        try building.setPV(watts: watts)
        emitGrid("pv")
    }

    /// Starts a PV day curve now (nil stops it; the output falls back to the set value).
    public mutating func setPVCurve(_ curve: PVDayCurve?) {
        building.setPVCurve(curve, at: now)
        emitGrid("pv_curve")
    }

    private mutating func emitGrid(_ change: String) {
        emit("grid", nil, [
            ("change", .string(change)),
            ("house_load_a", .array(building.houseLoadA.map { .double(World.round1($0)) })),
            ("pv_w", .double(building.pvWatts(at: now).rounded())),
        ])
    }

    /// `grid` in `GET /api/state` and `GET /api/grid`.
    public func gridJSON() -> JSONValue {
        let signed = gridCurrentA
        let v = config.nominalVoltage
        let total = signed.reduce(0, +) * v
        let meter: JSONValue
        if let m = config.gridMeter {
            meter = .object([
                ("unit", .int(Int64(m.unit))), ("model", .string(m.map.name)),
                ("online", .bool(!stationFaults.contains(.gridMeterOffline))),
            ])
        } else {
            meter = .null
        }
        return .object([
            ("fuse_a", .double(config.gridFuseA)),
            ("house_load_a", .array(building.houseLoadA.map { .double(World.round1($0)) })),
            ("pv_w", .double(building.pvWatts(at: now).rounded())),
            ("pv_curve", building.pvCurve.map { c in
                .object([
                    ("seconds_per_hour", .double(c.secondsPerHour)),
                    ("hour", .double(World.round4(building.pvHour(at: now) ?? 0))),
                    ("points", .array(c.points.map { .array([.double($0.hour), .double($0.watts)]) })),
                ])
            } ?? .null),
            ("chargers_a", .array(chargersCurrentA.map { .double(World.round1($0)) })),
            ("current_a", .array(signed.map { .double(World.round1($0)) })),
            ("power_w", .array(signed.map { .double(($0 * v).rounded()) })),
            ("total_power_w", .double(total.rounded())),
            ("import_w", .double(max(0, total).rounded())),
            ("export_w", .double(max(0, -total).rounded())),
            ("import_wh", .double(World.round1(building.importWh))),
            ("export_wh", .double(World.round1(building.exportWh))),
            ("pv_wh", .double(World.round1(building.pvProducedWh))),
            ("meter", meter),
        ])
    }
}
