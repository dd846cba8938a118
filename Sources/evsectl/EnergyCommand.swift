import ArgumentParser
import ChargingCore
import Storage

/// `evsectl energy mode [fast|pv|min+pv]`: energy management's charging mode. The mode is kept
/// in the station's database (the same store `evsed` keeps it in); a running `evsed` takes a
/// new one within 2 s, a stopped one at its next start.
struct EnergyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "energy",
        abstract: "Energy management (boards with a grid meter).",
        subcommands: [Mode.self])

    struct Mode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set the charging mode: fast, pv or min+pv.",
            discussion: """
            fast: everything the fuse allows after the building's own load. pv: only the PV surplus \
            that would be exported, with start/stop thresholds and minimum on/off times. min+pv: \
            6 A at all times plus the surplus. Without MODE, prints the stored mode.
            """)

        @Argument(help: "fast, pv or min+pv.")
        var mode: String?

        @Option(name: .long, help: "The station's data directory (evsed --data-dir).")
        var dataDir: String = "/var/lib/swiftevse"

        func run() throws {
            var chosen: ChargingMode?
            if let mode {
                guard let m = ChargingMode(rawValue: mode) else {
                    complain("unknown mode \"\(mode)\": expected \(ChargingMode.allCases.map(\.rawValue).joined(separator: ", "))")
                    throw Exit.usage
                }
                chosen = m
            }
            let storage: StationStorage
            do {
                storage = try StationStorage(dataDirectory: dataDir)
            } catch {
                complain("cannot open the station database in \(dataDir): \(error)")
                throw Exit.hardware
            }
            let key = "energy.mode"
            do {
                if let chosen {
                    try storage.config.set(chosen.rawValue, for: key)
                    emit("charging mode: \(chosen.rawValue) (a running evsed follows within 2 s)")
                } else {
                    emit("charging mode: \(try storage.config.value(for: key) ?? "not set (the station file's energy.mode applies)")")
                }
            } catch {
                complain("station database: \(error)")
                throw Exit.hardware
            }
        }
    }
}
