import Glibc
import Storage

/// `StorageBenchmarks crash-writer DIR`: the victim of StorageTests' kill -9 test. Forever (up to
/// a cap), in one journal transaction per step: ends the previous session and queues its stop
/// message, begins the next session and queues its start message; then prints the step number
/// on stdout. The test kills it with SIGKILL mid-write and checks the database it leaves.
func runCrashWriter(dataDirectory: String) throws {
    let journal = try StationStorage(dataDirectory: dataDirectory).journal
    for step in 1...1_000_000 {
        try journal.atomically { tx in
            if step > 1 {
                try tx.endSession("s\(step - 1)", stopReason: "Local", meterStopWh: Double(step * 10), atMs: Int64(step))
                try tx.enqueue(kind: "Stop", payload: #"{"session":"s\#(step - 1)"}"#, sessionId: "s\(step - 1)", atMs: Int64(step))
            }
            try tx.beginSession(SessionStart(id: "s\(step)", connectorId: 1, state: "Charging", startedAtMs: Int64(step),
                                             meterStartWh: Double(step * 10)))
            try tx.enqueue(kind: "Start", payload: #"{"session":"s\#(step)"}"#, sessionId: "s\(step)", atMs: Int64(step))
        }
        // Reported only once committed: everything up to the last printed step must survive.
        // Straight to the fd, unbuffered, so the test sees it at once.
        let line = Array("\(step)\n".utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}
