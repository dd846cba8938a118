import ArgumentParser
import BoardAssembly
import BoardDescription
import Drivers
import HAL

struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Walk every driver of the board and report pass/fail per part.",
        discussion: """
        Safe by default: the pilot is set to not-ready (+12 V), the contactors are commanded \
        open and must read open, fault inputs must be clear, the RCD module's self-test runs, \
        an empty socket's lock is cycled, meters are read, the display shows a test screen. \
        --cycle-contactors also closes each contactor briefly (no EV needed: be careful).
        """)

    @OptionGroup var options: BoardOptions
    @Flag(name: .long, help: "Close and reopen each contactor, checking its feedback both ways.")
    var cycleContactors = false

    final class Report {
        var passed = 0
        var failed = 0
        func pass(_ part: String, _ detail: String) {
            passed += 1
            emit("PASS  \(pad(part))  \(detail)")
        }
        func fail(_ part: String, _ detail: String) {
            failed += 1
            emit("FAIL  \(pad(part))  \(detail)")
        }
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, 18 - s.count)) }

        /// Runs one check; a thrown error is that part's failure.
        func check(_ part: String, _ body: () throws -> (ok: Bool, detail: String)) {
            do {
                let r = try body()
                r.ok ? pass(part, r.detail) : fail(part, r.detail)
            } catch {
                fail(part, explain(error))
            }
        }
    }

    /// Polls `body` every 5 ms until it returns a value or `limit` passes.
    static func wait<T>(_ limit: EVSEDuration, _ body: (MonotonicInstant) throws -> T?) throws -> T? {
        let deadline = clock.now() + limit
        while true {
            let now = clock.now()
            if let v = try body(now) { return v }
            if now > deadline { return nil }
            sleep(milliseconds: 5)
        }
    }

    /// The settled state of a fault input (after its debounce).
    static func settledFault(_ input: FaultInput) throws -> ActiveFault? {
        let until = clock.now() + input.config.debounce + .milliseconds(30)
        var active: ActiveFault?
        while clock.now() <= until {
            active = try input.poll(at: clock.now())
            sleep(milliseconds: 5)
        }
        return active
    }

    func run() throws {
        let parts = try options.parts()
        let board = parts.board
        let report = Report()
        emit("selftest: \(board.model) (\(board.file)), backend \(board.backend)")

        for c in board.connectors {
            let p = "c\(c.id)"
            var pilotState: CPState?
            report.check("\(p).pilot") {
                let pilot = try parts.pilot(c)
                try pilot.setNotReady()
                pilotState = try PilotCommand.settle(pilot)
                guard let s = pilotState else { return (false, "no settled CP state (\(PilotCommand.describe(pilot)))") }
                let ok = s == .a || s == .b || s == .c || s == .d
                return (ok, ok ? PilotCommand.describe(pilot) + " at 100 % (+12 V)"
                            : PilotCommand.describe(pilot) + ": expected A…D with +12 V on CP (E = CP shorted, F = no +12 V)")
            }
            var cablePresent = false
            report.check("\(p).proximity") {
                let pp = try parts.proximity(c)
                let reading = try pp.read()
                switch reading.detection {
                case let .cable(amps):
                    cablePresent = true
                    if case .fixedCable = c.kind { return (true, "fixed cable, \(amps) A (board file)") }
                    return (true, "cable \(amps) A (\(formatNumber(reading.ohms ?? 0, decimals: 0)) Ω)")
                case .noCable: return (true, "no cable (\(formatNumber(reading.volts ?? 0)) V)")
                case let .invalid(ohms): return (false, "PP reads \(formatNumber(ohms, decimals: 0)) Ω: no cable has that (shorted?)")
                }
            }
            if c.lock != nil {
                report.check("\(p).lock") {
                    guard let lock = try parts.lock(c) else { return (false, "not built") }
                    guard lock.hasFeedback else { return (true, "no feedback switch: drive line opened, not cycled") }
                    if cablePresent { return (true, "cable plugged: not cycled; feedback \(try lock.poll(at: clock.now()))") }
                    try lock.lock(at: clock.now())
                    let locked = try Self.wait(c.lock?.timeout ?? .milliseconds(1_000) + .milliseconds(100)) { now -> CableLockState? in
                        let s = try lock.poll(at: now)
                        switch s {
                        case .locked, .fault: return s
                        default: return nil
                        }
                    }
                    try lock.unlock(at: clock.now())
                    let unlocked = try Self.wait(c.lock?.timeout ?? .milliseconds(1_000) + .milliseconds(100)) { now -> CableLockState? in
                        let s = try lock.poll(at: now)
                        switch s {
                        case .unlocked, .fault: return s
                        default: return nil
                        }
                    }
                    let ok = locked == .locked && unlocked == .unlocked
                    return (ok, ok ? "locked and unlocked, feedback confirmed"
                                : "lock: \(locked.map { "\($0)" } ?? "no answer"), unlock: \(unlocked.map { "\($0)" } ?? "no answer")")
                }
            }
            report.check("\(p).contactor") {
                let contactor = try parts.contactor(c)
                try contactor.open(at: clock.now())
                var outcome = try ContactorCommand.confirm(contactor, board: c, closed: false)
                if case .noFeedback = outcome { return (true, "\(c.contactor.coils.count) coil(s), no feedback contact to check") }
                if case let .fault(f) = outcome { return (false, "commanded open but feedback reads closed (\(f.map(\.kind.rawValue).joined(separator: ", ")))") }
                guard cycleContactors else { return (true, "open, feedback agrees") }
                try contactor.close(at: clock.now())
                outcome = try ContactorCommand.confirm(contactor, board: c, closed: true)
                try contactor.open(at: clock.now())
                let reopened = try ContactorCommand.confirm(contactor, board: c, closed: false)
                if case .fault = outcome { return (false, "did not close: feedback stayed open") }
                if case .fault = reopened { return (false, "did not reopen: welded?") }
                return (true, "open, closed and reopened; feedback confirmed each time")
            }
            if c.rcd != nil {
                var module: FaultInput?
                report.check("\(p).rcd") {
                    guard let rcd = try parts.rcd(c) else { return (false, "not built") }
                    module = rcd
                    if let f = try Self.settledFault(rcd) { return (false, "tripped (\(f))") }
                    return (true, "not tripped")
                }
                if c.rcd?.test != nil, let module {
                    report.check("\(p).rcd.test") {
                        guard let test = try parts.rcdSelfTest(c, rcd: module) else { return (false, "not built") }
                        _ = try test.start(at: clock.now())
                        let end = try Self.wait(.milliseconds(3_000)) { now -> RCDSelfTestPhase? in
                            let phase = try test.poll(at: now)
                            return phase.isRunning ? nil : phase
                        }
                        switch end {
                        case .passed?: return (true, "module tripped on test and cleared")
                        case let .failed(why, _)?: return (false, "self-test failed: \(why.rawValue)")
                        default:
                            try? test.cancel()
                            return (false, "self-test did not finish")
                        }
                    }
                }
            }
            if c.meter != nil {
                report.check("\(p).meter") {
                    guard let meter = try parts.meter(c) else { return (false, "not built") }
                    do {
                        let s = try meter.read(at: clock.now())
                        var detail = "\(s.values.count) values"
                        if let v = s[.voltageL1] { detail += ", L1 \(formatNumber(v, decimals: 1)) V" }
                        if let e = s[.energyImported] { detail += ", import \(formatNumber(e, decimals: 0)) Wh" }
                        return (true, detail)
                    } catch let fault as MeterFault {
                        return (false, MeterCommand.Read.explainFault(fault))
                    }
                }
            }
            if c.led != nil {
                report.check("\(p).led") {
                    guard let led = try parts.statusLED(c.led) else { return (false, "not built") }
                    for color in [LEDColor.red, .green, .blue] {
                        try led.set(.solid(color), at: clock.now())
                        sleep(milliseconds: 150)
                    }
                    try led.set(.off, at: clock.now())
                    return (true, "showed red, green, blue (check by eye)")
                }
            }
        }

        if board.station.rfid != nil {
            report.check("station.rfid") {
                guard let reader = try parts.cardReader() else { return (false, "not built") }
                _ = try reader.poll(at: clock.now())
                return (true, "reader lines open (present a card with `evsectl rfid watch`)")
            }
        }
        if board.station.display != nil {
            report.check("station.display") {
                guard let display = try parts.display(consoleSink: { emit($0) }) else { return (false, "not built") }
                try display.show(lines: TextLayout.wrap("SwiftEVSE selftest \(board.model)", columns: display.columns, rows: display.rows))
                return (true, "\(display.columns)x\(display.rows) test screen shown (check by eye)")
            }
        }
        if board.station.led != nil {
            report.check("station.led") {
                guard let led = try parts.statusLED(board.station.led) else { return (false, "not built") }
                try led.set(.solid(.white), at: clock.now())
                sleep(milliseconds: 300)
                try led.set(.off, at: clock.now())
                return (true, "showed white (check by eye)")
            }
        }
        if board.station.emergencyStop != nil {
            report.check("station.estop") {
                guard let input = try parts.emergencyStop() else { return (false, "not built") }
                if try Self.settledFault(input) != nil { return (false, "emergency stop is pressed (or its loop is open)") }
                return (true, "released")
            }
        }
        if board.station.overTemperature != nil {
            report.check("station.overtemp") {
                guard let input = try parts.overTemperature() else { return (false, "not built") }
                if try Self.settledFault(input) != nil { return (false, "over-temperature input is active") }
                return (true, "normal")
            }
        }

        emit("selftest: \(report.passed) passed, \(report.failed) failed")
        if report.failed > 0 { throw Exit.hardware }
    }
}
