import Glibc
import Storage
import Testing

/// The `StorageBenchmarks` executable (its `crash-writer` mode), built next to the test bundle
/// by `swift build --build-tests`.
enum CrashWriter {
    static let path: String? = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return nil }
        let candidate = String(executable[..<slash]) + "/StorageBenchmarks"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }()

    /// Starts the writer on `directory`, waits (on its stdout, no sleeping) until it has reported
    /// `steps` committed steps, kills it with SIGKILL and returns the last step it reported.
    static func runAndKill(_ executable: String, directory: String, afterSteps steps: Int) throws -> Int {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw StorageError.invalidArgument("pipe failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let words: [String] = [executable, "crash-writer", directory]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { (word: String) in strdup(word) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv + [nil], environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard rc == 0 else { throw StorageError.invalidArgument("posix_spawn \(executable) failed: \(rc)") }

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while output.count(where: { $0 == UInt8(ascii: "\n") }) < steps {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }  // the writer died on its own: the checks below will say so
            output += buffer[..<n]
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        guard lines.count >= steps, let last = Int(lines[lines.count - 1]) ?? Int(lines[lines.count - 2]) else {
            throw StorageError.invalidArgument("crash writer reported only \(lines.count) steps: \(lines.suffix(3))")
        }
        return last
    }
}

@Suite struct CrashTests {
    @Test(.enabled(if: CrashWriter.path != nil, "needs StorageBenchmarks built next to the tests (swift build --build-tests)"))
    func killDashNineMidWriteLosesNothingCommittedAndNothingHalfWritten() throws {
        let executable = try #require(CrashWriter.path)
        let dir = try TemporaryDirectory()
        let lastReported = try CrashWriter.runAndKill(executable, directory: dir.path, afterSteps: 40)

        let storage = try StationStorage(dataDirectory: dir.path)
        #expect(try storage.database.query("PRAGMA integrity_check") { try $0.string(0) } == ["ok"])
        let journal = storage.journal
        // Every step the writer reported as committed is there; at most the step in flight is more.
        let sessions = try storage.database.query("SELECT count(*) FROM sessions") { try $0.int(0) }.first ?? 0
        #expect(sessions >= lastReported && sessions <= lastReported + 1)
        // Each step was all-or-nothing: exactly one open session, the newest, and one queued
        // message per start and per end, in order, nothing twice.
        let open = try journal.openSessions()
        #expect(open.map(\.id) == ["s\(sessions)"])
        let queue = try journal.pending(limit: 10 * sessions + 10)
        #expect(queue.filter { $0.kind == "Start" }.count == sessions)
        #expect(queue.filter { $0.kind == "Stop" }.count == sessions - 1)
        #expect(Set(queue.map { $0.kind + $0.payload }).count == queue.count)
        #expect(queue.map(\.seq) == queue.map(\.seq).sorted())
        // Recovery: the open session ends once.
        try journal.endSession("s\(sessions)", stopReason: "PowerLoss", meterStopWh: 1, atMs: 1)
        #expect(throws: StorageError.sessionAlreadyEnded("s\(sessions)")) {
            try journal.endSession("s\(sessions)", stopReason: "PowerLoss", meterStopWh: 1, atMs: 1)
        }
    }
}
