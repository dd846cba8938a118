import ChargingCore
import ConfigFile
import HAL

/// The `energy:` section: the charging mode the station starts in (until `evsectl energy mode`
/// or the CSMS changes it; the last change is kept across restarts) and the PV tunables. The
/// grid meter, the fuse, the margin and the fallback current are the board's (`grid:`).
public struct EnergySettings: Sendable, Equatable {
    public var mode: ChargingMode = .fast
    /// PV: the surplus must reach the minimum charging power for this long before charging starts…
    public var pvStartDelay: EVSEDuration = .seconds(Int64(30))
    /// …and stay below the minimum − `pvStopAllowanceW` this long before it stops.
    public var pvStopDelay: EVSEDuration = .seconds(Int64(60))
    /// Grid import accepted while a cloud passes, W.
    public var pvStopAllowanceW: Double = 500
    /// Charging runs at least this long once started, and stays off this long once stopped.
    public var pvMinimumOnTime: EVSEDuration = .seconds(Int64(300))
    public var pvMinimumOffTime: EVSEDuration = .seconds(Int64(300))
    /// 1/3-phase switching (boards with the relay): the least time between two switches of a
    /// connector, and the most switches in one session.
    public var phaseSwitchInterval: EVSEDuration = .seconds(Int64(300))
    public var phaseSwitchesPerSession = 10
    public init() {}

    static func parse(_ node: ConfigNode, _ r: ConfigReader) throws(ConfigFileError) -> EnergySettings {
        var s = EnergySettings()
        var f = try r.mapping(node, "energy")
        if let n = f.optional("mode") { s.mode = try r.oneOf(n, f.sub("mode"), ChargingMode.self) }
        if let n = f.optional("pv") {
            var pv = try r.mapping(n, f.sub("pv"))
            func seconds(_ key: String, _ range: ClosedRange<Int>) throws(ConfigFileError) -> EVSEDuration? {
                guard let n = pv.optional(key) else { return nil }
                return .seconds(Int64(try r.int(n, pv.sub(key), in: range, unit: "s")))
            }
            if let d = try seconds("start_delay_s", 0...3_600) { s.pvStartDelay = d }
            if let d = try seconds("stop_delay_s", 0...3_600) { s.pvStopDelay = d }
            if let d = try seconds("min_on_s", 0...86_400) { s.pvMinimumOnTime = d }
            if let d = try seconds("min_off_s", 0...86_400) { s.pvMinimumOffTime = d }
            if let n = pv.optional("stop_allowance_w") { s.pvStopAllowanceW = try r.double(n, pv.sub("stop_allowance_w"), in: 0...20_000, unit: "W") }
            try pv.finish()
        }
        if let n = f.optional("phase_switching") {
            var ps = try r.mapping(n, f.sub("phase_switching"))
            if let n = ps.optional("min_interval_s") {
                s.phaseSwitchInterval = .seconds(Int64(try r.int(n, ps.sub("min_interval_s"), in: 10...86_400, unit: "s")))
            }
            if let n = ps.optional("max_per_session") { s.phaseSwitchesPerSession = try r.int(n, ps.sub("max_per_session"), in: 0...100) }
            try ps.finish()
        }
        try f.finish()
        return s
    }
}
