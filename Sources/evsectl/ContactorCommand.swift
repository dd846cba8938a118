import ArgumentParser
import BoardAssembly
import BoardDescription
import Drivers
import HAL

struct ContactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contactor", abstract: "Close or open a connector's contactor and check its feedback contact.",
        subcommands: [Close.self, Open.self])

    enum Outcome { case confirmed, noFeedback, fault([ContactorFault]) }

    /// Polls the feedback until it agrees with the command or the board's feedback timeout
    /// (plus one poll) has passed and the driver reports a fault.
    static func confirm(_ contactor: Contactor, board c: ConnectorDescription, closed: Bool) throws -> Outcome {
        guard contactor.hasFeedback else { return .noFeedback }
        let start = clock.now()
        let deadline = start + c.contactor.feedbackTimeout + .milliseconds(100)
        while true {
            let now = clock.now()
            let faults = try contactor.poll(at: now)
            if !faults.isEmpty { return .fault(faults) }
            if contactor.status.feedbackClosed == closed { return .confirmed }
            if now > deadline { return .fault(contactor.faults) }
            sleep(milliseconds: 5)
        }
    }

    static func report(_ outcome: Outcome, connector id: Int, closed: Bool, elapsedFrom start: MonotonicInstant) throws {
        let verb = closed ? "closed" : "open"
        switch outcome {
        case .confirmed:
            emit("connector \(id): contactor \(verb), feedback confirmed after \((clock.now() - start).description)")
        case .noFeedback:
            emit("connector \(id): contactor commanded \(verb); this board has no feedback contact to confirm it")
        case let .fault(faults):
            let what = faults.isEmpty ? "feedback did not follow the command" : faults.map(\.kind.rawValue).joined(separator: ", ")
            complain("connector \(id): contactor commanded \(verb) but \(what)")
            throw Exit.hardware
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close the contactor (only while the pilot is in C or D, unless --force).")
        @OptionGroup var options: BoardOptions
        @OptionGroup var connectorOption: ConnectorOption
        @Flag(name: .long, help: "Close even though no EV requests charging (mains on the socket: be careful).")
        var force = false
        @Option(name: .long, help: "Keep the contactor closed this many seconds, then open it again.")
        var hold: Double?

        func run() throws {
            let parts = try options.parts()
            let c = try connectorOption.pick(parts.board)
            if !force {
                let pilot = try hardware("c\(c.id).pilot") { try parts.pilot(c) }
                let state = try hardware("c\(c.id).pilot") { try PilotCommand.settle(pilot) }
                guard let state, state.vehicleRequestsCharge else {
                    complain("connector \(c.id): pilot is in state \(state?.rawValue ?? "unknown"), not C or D: refusing to close the contactor without an EV requesting charge (--force overrides)")
                    throw Exit.hardware
                }
            }
            let contactor = try hardware("c\(c.id).contactor") { try parts.contactor(c) }
            let start = clock.now()
            try hardware("c\(c.id).contactor") { try contactor.close(at: start) }
            let outcome = try hardware("c\(c.id).contactor") { try ContactorCommand.confirm(contactor, board: c, closed: true) }
            do {
                try ContactorCommand.report(outcome, connector: c.id, closed: true, elapsedFrom: start)
            } catch {
                // A contactor that did not confirm closing is opened again: never leave it half-known.
                try? contactor.open(at: clock.now())
                throw error
            }
            if let hold {
                sleep(milliseconds: Int(hold * 1000))
                try hardware("c\(c.id).contactor") { try contactor.open(at: clock.now()) }
                emit("connector \(c.id): contactor opened after \(formatNumber(hold)) s")
            }
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open the contactor and check it is not welded.")
        @OptionGroup var options: BoardOptions
        @OptionGroup var connectorOption: ConnectorOption

        func run() throws {
            let parts = try options.parts()
            let c = try connectorOption.pick(parts.board)
            let contactor = try hardware("c\(c.id).contactor") { try parts.contactor(c) }
            let start = clock.now()
            try hardware("c\(c.id).contactor") { try contactor.open(at: start) }
            let outcome = try hardware("c\(c.id).contactor") { try ContactorCommand.confirm(contactor, board: c, closed: false) }
            try ContactorCommand.report(outcome, connector: c.id, closed: false, elapsedFrom: start)
        }
    }
}
