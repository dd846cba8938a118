// Times the local authorization list against the DESIGN budget (full update of 50,000 entries
// ≤ 2 s, lookup ≤ 50 µs) on a real file database (WAL, synchronous=FULL), plus the per-commit
// cost of the journal that every billing-relevant change pays.
//
//   swift run -c release StorageBenchmarks [entries] [lookups]
//
// `StorageBenchmarks crash-writer DIR` is the helper process of StorageTests' kill -9 test.
import Glibc
import Storage

/// SplitMix64: a fixed seed so every run looks up the same tokens.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func microseconds(_ d: Duration) -> Double {
    let (seconds, attoseconds) = d.components
    return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
    return sorted[max(0, index)]
}

func format(_ value: Double, _ digits: Int = 2) -> String {
    var scaled = value
    for _ in 0..<digits { scaled *= 10 }
    let rounded = Int64(scaled.rounded())
    var divisor: Int64 = 1
    for _ in 0..<digits { divisor *= 10 }
    let fraction = String(abs(rounded % divisor))
    let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    return digits == 0 ? "\(rounded)" : "\(rounded / divisor).\(padded)"
}

func summary(_ label: String, _ samples: [Double]) -> (p50: Double, p99: Double) {
    let sorted = samples.sorted()
    let p50 = percentile(sorted, 50), p99 = percentile(sorted, 99)
    let mean = samples.reduce(0, +) / Double(max(1, samples.count))
    print("\(label): n=\(samples.count) p50=\(format(p50)) µs  p99=\(format(p99)) µs  mean=\(format(mean)) µs  max=\(format(sorted.last ?? 0)) µs")
    return (p50, p99)
}

func entry(_ i: Int) -> AuthorizationRecord {
    AuthorizationRecord(idToken: "04A2\(i)F1C9", status: i % 50 == 0 ? .blocked : .accepted,
                        expiresAt: i % 3 == 0 ? Int64(1_900_000_000 + i) : nil,
                        parentIdToken: i % 10 == 0 ? "FLEET\(i % 7)" : nil)
}

func run() throws {
    let arguments = CommandLine.arguments
    let entries = arguments.count > 1 ? Int(arguments[1]) ?? 50_000 : 50_000
    let lookups = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000

    var template = Array("/tmp/swiftevse-bench-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw StorageError.invalidArgument("mkdtemp failed: errno \(errno)") }
    let directory = String(cString: made)
    defer {
        for suffix in ["", "-wal", "-shm"] { unlink(directory + "/" + StationStorage.fileName + suffix) }
        rmdir(directory)
    }
    let storage = try StationStorage(dataDirectory: directory)
    let clock = ContinuousClock()
    print("SwiftEVSE storage benchmark: \(entries) local-list entries, \(lookups) lookups, database \(directory) (journal \(try storage.database.journalMode()), synchronous=FULL)")

    // Full update, twice: the first into an empty table, the second replacing a full list.
    var fullUpdateSeconds: [Double] = []
    for version in 1...2 {
        let elapsed = try clock.measure {
            try storage.localList.fullUpdate(version: version, entries: (0..<entries).lazy.map(entry))
        }
        fullUpdateSeconds.append(microseconds(elapsed) / 1e6)
        print("full update #\(version) of \(entries) entries: \(format(microseconds(elapsed) / 1000, 1)) ms")
    }
    guard try storage.localList.count() == entries else {
        throw StorageError.invalidArgument("expected \(entries) entries after the full update")
    }

    // Lookups: 90 % tokens on the list, 10 % unknown ones, in random order.
    var random = SplitMix64(state: 0x5EED)
    var lookupMicros: [Double] = []
    lookupMicros.reserveCapacity(lookups)
    var misses = 0
    for n in 0..<lookups {
        let i = Int(random.next() % UInt64(entries))
        let token = n % 10 == 9 ? "UNKNOWN\(i)" : entry(i).idToken
        let start = clock.now
        let found = try storage.localList.lookup(token)
        lookupMicros.append(microseconds(clock.now - start))
        if found == nil { misses += 1 }
    }
    let lookup = summary("local list lookup", lookupMicros)
    guard misses == lookups / 10 else { throw StorageError.invalidArgument("lookup returned wrong results (\(misses) misses)") }

    // A differential update of 100 changes (one commit).
    let diff = try clock.measure {
        try storage.localList.differentialUpdate(version: 3, changes: (0..<100).map { i in
            i % 2 == 0 ? .upsert(AuthorizationRecord(idToken: "NEW\(i)", status: .accepted)) : .remove(idToken: entry(i).idToken)
        })
    }
    print("differential update of 100 changes: \(format(microseconds(diff) / 1000, 2)) ms")

    // Journal commits: each is one fsynced transaction, the cost of every billing-relevant change.
    try storage.journal.beginSession(SessionStart(id: "bench", connectorId: 1, state: "Charging", startedAtMs: 0, meterStartWh: 0))
    var commitMicros: [Double] = []
    for n in 1...200 {
        let start = clock.now
        let seq = try storage.journal.enqueue(kind: "TransactionEvent", payload: #"{"seqNo":\#(n)}"#, sessionId: "bench", atMs: Int64(n))
        try storage.journal.acknowledge(seq)
        commitMicros.append(microseconds(clock.now - start) / 2)
    }
    _ = summary("journal commit (enqueue or acknowledge, fsynced)", commitMicros)

    let worstFull = fullUpdateSeconds.max() ?? 0
    print("budget: full update \(format(worstFull, 3)) s ≤ 2 s: \(worstFull <= 2 ? "OK" : "OVER"); lookup p99 \(format(lookup.p99)) µs ≤ 50 µs: \(lookup.p99 <= 50 ? "OK" : "OVER")")
}

do {
    if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "crash-writer" {
        try runCrashWriter(dataDirectory: CommandLine.arguments[2])
    } else {
        try run()
    }
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}
