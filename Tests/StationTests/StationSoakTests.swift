#if canImport(Glibc)
import Glibc
#endif
import ChargingCore
import HAL
import Station
import Storage
import Testing

/// Soak on the virtual clock: a charger's months, session after session (card, charge, stop,
/// unplug) with hours between them. What must stay flat is what a pole-mounted charger runs out
/// of: file descriptors, the journal's size (ended sessions older than `history_days` go), the
/// outbox. SOAK_SESSIONS overrides the count (the note's figures come from a larger run).
@Suite("Station soak", .serialized)
struct StationSoakTests {
    static var sessions: Int { Int(getenv("SOAK_SESSIONS").map { String(cString: $0) } ?? "") ?? 200 }

    /// Descriptors this process holds on files under `directory` (other tests run in the same
    /// process at the same time: only this station's files count).
    static func openDescriptors(under directory: String) -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            var target = [CChar](repeating: 0, count: 4_096)
            let n = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            guard n > 0 else { continue }
            let path = String(decoding: target[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if path.hasPrefix(directory) { count += 1 }
        }
        return count
    }

    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    @Test func monthsOfSessionsKeepTheJournalBoundedAndNoDescriptorLeaks() async throws {
        var config = try StationConfig.load(path: Repo.demoStation)
        config.sessions.historyDays = 7
        let rig = try Rig(config: config)
        try rig.station.start(at: rig.clock.now())
        let journal = rig.station.storage.journal
        let database = rig.dataDirectory + "/" + StationStorage.fileName
        var descriptorsAfterWarmUp = 0
        var sizes: [Int] = []
        var started = 0
        for n in 1...Self.sessions {
            let connector = n % 2 + 1
            guard rig.startCharging(connector) else {
                Issue.record("session \(n) did not start on c\(connector): \(String(describing: rig.view(connector)))")
                return
            }
            started += 1
            rig.meter(connector, addWh: 7_000, amps: 16)
            rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())  // the same card stops it
            rig.step(until: { rig.view(connector)?.session == nil })
            rig.unplug(connector)
            rig.step(until: { rig.view(connector)?.status == .available })
            // Five sessions a day.
            rig.clock.advance(by: .seconds(Int64(86_400 / 5)))
            rig.step()
            if n == 20 { descriptorsAfterWarmUp = Self.openDescriptors(under: rig.dataDirectory) }
            // Twenty seconds of synchronous work would hold one of the task pool's threads (two
            // on CI) the whole time; between sessions the suite's other tests get it back.
            await Task.yield()
            if n % 50 == 0 {
                try rig.station.storage.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                sizes.append(Self.fileSize(database))
            }
        }
        let kept = try journal.recentSessions(limit: 10_000)
        let descriptors = Self.openDescriptors(under: rig.dataDirectory)
        print("soak: \(started) sessions over \(started / 5) days; journal keeps \(kept.count); database sizes every 50 sessions: \(sizes); open descriptors \(descriptorsAfterWarmUp) → \(descriptors)")
        #expect(started == Self.sessions)
        // 7 days at 5 a day, plus the up to 6 hours until the next pruning round.
        #expect(kept.count <= 7 * 5 + 3, "the journal keeps only the history it is told to")
        #expect(try journal.openSessions().isEmpty)
        #expect(descriptors <= descriptorsAfterWarmUp, "no descriptor leaks")
        if let first = sizes.dropFirst().first, let last = sizes.last {
            // SQLite reuses the pages pruned sessions leave: the file stops growing.
            #expect(last <= first + 16_384, "database \(first) → \(last) bytes")
        }
    }
}
