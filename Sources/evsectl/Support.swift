#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import BoardAssembly
import BoardDescription
import HAL
import Logging

enum Exit {
    static let hardware = ExitCode(1)
    static let boardFile = ExitCode(2)
    static let usage = ExitCode(64)
}

/// Writes one line to stderr, prefixed like every message of this tool.
func complain(_ message: String) {
    writeAll(fd: 2, "evsectl: \(message)\n")
}

/// Unbuffered, so that `--watch` output shows up at once through a pipe.
func emit(_ line: String) {
    writeAll(fd: 1, line + "\n")
}

private func writeAll(fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return write(fd, base + offset, buffer.count - offset)
        }
        if n <= 0 {
            if n < 0, errno == EINTR { continue }
            return
        }
        offset += n
    }
}

func sleep(milliseconds: Int) {
    usleep(useconds_t(max(0, milliseconds) * 1_000))
}

let clock = SystemMonotonicClock()

/// Options every hardware command shares.
struct BoardOptions: ParsableArguments {
    @Option(name: .long, help: "The board description file (e.g. Board/sim-2x22kw.yaml).")
    var board: String

    @Flag(name: .shortAndLong, help: "Log what is opened and sent.")
    var verbose = false

    func load() throws -> BoardDescription {
        bootstrapLogging(verbose: verbose)
        do {
            return try BoardLoader.load(path: board)
        } catch {
            complain("\(error)")
            throw Exit.boardFile
        }
    }

    /// The board, its backend and a factory for single drivers.
    func parts() throws -> PartFactory {
        let description = try load()
        let backend: any HardwareBackend
        do {
            backend = try BackendFactory.make(for: description)
        } catch {
            complain(explain(error))
            throw Exit.hardware
        }
        logger.info("board \(description.model) on backend \(description.backend)")
        return PartFactory(board: description, backend: backend, modbus: BackendFactory.openModbusBus)
    }
}

struct ConnectorOption: ParsableArguments {
    @Option(name: .long, help: "Connector id (default: 1).")
    var connector: Int = 1

    func pick(_ board: BoardDescription) throws -> ConnectorDescription {
        guard let c = board.connector(id: connector) else {
            complain("\(board.file): no connector \(connector) (the board has \(board.connectors.map { String($0.id) }.joined(separator: ", ")))")
            throw Exit.usage
        }
        return c
    }
}

/// How long a --watch loop runs (default: until interrupted).
struct WatchOptions: ParsableArguments {
    @Option(name: .customLong("for"), help: "Stop watching after this many seconds (default: until Ctrl-C).")
    var seconds: Double?

    @Option(name: .customLong("interval-ms"), help: "Poll interval in milliseconds.")
    var intervalMilliseconds: Int = 20

    /// Calls `body` every interval until the time is up; `body` returns false to stop early.
    func loop(_ body: (MonotonicInstant) throws -> Bool) throws {
        let start = clock.now()
        while true {
            let now = clock.now()
            if let seconds, (now - start).seconds >= seconds { return }
            if try !body(now) { return }
            sleep(milliseconds: intervalMilliseconds)
        }
    }
}

nonisolated(unsafe) var logger = Logger(label: "evsectl")

private nonisolated(unsafe) var loggingBootstrapped = false

func bootstrapLogging(verbose: Bool) {
    if !loggingBootstrapped {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        loggingBootstrapped = true
    }
    logger = Logger(label: "evsectl")
    logger.logLevel = verbose ? .debug : .warning
}

/// A message for the person at the board: hardware errors say what to check.
func explain(_ error: any Error) -> String {
    switch error {
    case let e as HardwareError:
        // Backends that already say what to check end their detail with a question.
        if e.detail.contains("?") { return e.description }
        switch e.kind {
        case .deviceMissing: return "\(e) (device missing: check the wiring, the device tree overlay and the board file)"
        case .permissionDenied: return "\(e) (permission denied: run as root or add the user to the gpio/dialout/i2c/input group)"
        case .busy: return "\(e) (in use by another program: stop evsed or the other consumer first)"
        case .timeout: return "\(e) (no answer in time: check power, wiring, unit id and bus settings)"
        case .disconnected: return "\(e) (link down: is the device or evse-sim running?)"
        default: return e.description
        }
    case let e as BoardAssemblyError:
        return e.failures.map { "\($0.part): \(explain($0.error))" }.joined(separator: "\n")
    default:
        return "\(error)"
    }
}

/// Runs `body`, turning any error into a clear message and exit status 1.
func hardware<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        complain("\(what): \(explain(error))")
        throw Exit.hardware
    }
}

func formatNumber(_ v: Double, decimals: Int = 2) -> String {
    guard v.isFinite else { return "\(v)" }
    var p = 1.0
    for _ in 0..<decimals { p *= 10 }
    let r = (v * p).rounded() / p
    var s = "\(r)"
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}
