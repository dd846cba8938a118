#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChargingCore
import Storage

/// `evsectl energy mode [fast|pv|min+pv]`: energy management's charging mode. The mode is kept
/// in the station's database (the same store `evsed` keeps it in); a running `evsed` is told at
/// once (SIGUSR1 to the pid in its `evsed.pid`), a stopped one takes it at its next start.
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
                    if let pid = Self.runningDaemon(dataDir: dataDir), kill(pid, SIGUSR1) == 0 {
                        emit("charging mode: \(chosen.rawValue) (evsed, pid \(pid), told)")
                    } else {
                        emit("charging mode: \(chosen.rawValue) (no running evsed reachable: it applies at the next start)")
                    }
                } else {
                    emit("charging mode: \(try storage.config.value(for: key) ?? "not set (the station file's energy.mode applies)")")
                }
            } catch {
                complain("station database: \(error)")
                throw Exit.hardware
            }
        }

        /// The pid in `evsed.pid` if that process is an evsed: a stale file after a crash may
        /// name a pid some other program got since, which SIGUSR1 would terminate.
        static func runningDaemon(dataDir: String) -> pid_t? {
            guard let text = readSmallFile(dataDir + "/evsed.pid"),
                  let pid = pid_t(String(text.filter { !$0.isWhitespace })), pid > 0,
                  readSmallFile("/proc/\(pid)/comm")?.filter({ !$0.isWhitespace }) == "evsed" else { return nil }
            return pid
        }

        static func readSmallFile(_ path: String) -> String? {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
    }
}
