import ArgumentParser
import BoardDescription
import HAL

struct GPIOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpio", abstract: "Read, drive or watch one GPIO line.",
        discussion: """
        LINE-REF is a part name from `evsectl board check` (c1.contactor.coil, station.estop), a \
        line name (CONTACTOR_1, c1.rcd) or CHIP:OFFSET (gpiochip0:17). Lines the board does not \
        name are opened plain (active-high, no bias).
        """,
        subcommands: [Get.self, Set.self, Watch.self])

    /// The line behind `reference`, with the board's active-low/bias when the board names it.
    static func resolve(_ reference: String, on board: BoardDescription) -> (part: String?, ref: GPIOLineRef, isOutput: Bool?) {
        if let known = board.gpioLine(reference) { return (known.part, known.line, known.isOutput) }
        var address = GPIOLineAddress.name(reference)
        if let colon = reference.lastIndex(of: ":"), reference[..<colon].hasPrefix("gpiochip") || reference[..<colon].hasPrefix("/dev/gpiochip"),
           let offset = UInt32(reference[reference.index(after: colon)...]) {
            var chip = String(reference[..<colon])
            if chip.hasPrefix("/dev/") { chip.removeFirst(5) }
            address = .chipOffset(chip: chip, offset: offset)
        }
        return (nil, GPIOLineRef(address: address, activeLow: false, bias: .asIs, debounce: .zero, line: 0), nil)
    }

    static func label(_ r: (part: String?, ref: GPIOLineRef, isOutput: Bool?)) -> String {
        r.part.map { "\($0) (\(r.ref.address))" } ?? r.ref.address.description
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a line's logical level (1 = active).")
        @OptionGroup var options: BoardOptions
        @Argument(help: "LINE-REF") var line: String
        @Flag(name: .long, help: "Read a line the board declares as an output (it is reconfigured as an input).")
        var asInput = false

        func run() throws {
            let parts = try options.parts()
            let r = GPIOCommand.resolve(line, on: parts.board)
            // Requesting a line as input turns a driven output off; that must be asked for.
            if r.isOutput == true, !asInput {
                complain("\(GPIOCommand.label(r)) is an output on this board: reading it would reconfigure it as an input (use --as-input)")
                throw Exit.usage
            }
            let level = try hardware(GPIOCommand.label(r)) {
                let l = try parts.backend.openGPIOLine(r.ref.address, config: r.ref.config(.input, consumer: "evsectl"))
                defer { l.close() }
                return try l.read()
            }
            emit("\(GPIOCommand.label(r)): \(level ? 1 : 0)")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drive an output line (1 = active, 0 = inactive).")
        @OptionGroup var options: BoardOptions
        @Argument(help: "LINE-REF") var line: String
        @Argument(help: "0 or 1") var value: Int
        @Flag(name: .long, help: "Also drive a line the board declares as an input.")
        var force = false

        func validate() throws {
            guard value == 0 || value == 1 else { throw ValidationError("value must be 0 or 1") }
        }

        func run() throws {
            let parts = try options.parts()
            let r = GPIOCommand.resolve(line, on: parts.board)
            if r.isOutput == false, !force {
                complain("\(GPIOCommand.label(r)) is an input on this board; refusing to drive it (use --force)")
                throw Exit.usage
            }
            try hardware(GPIOCommand.label(r)) {
                let l = try parts.backend.openGPIOLine(r.ref.address, config: r.ref.config(.output(initial: value == 1), consumer: "evsectl"))
                try l.write(value == 1)
            }
            emit("\(GPIOCommand.label(r)): set to \(value)")
        }
    }

    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every edge of an input line with its kernel timestamp.")
        @OptionGroup var options: BoardOptions
        @OptionGroup var watch: WatchOptions
        @Argument(help: "LINE-REF") var line: String

        func run() throws {
            let parts = try options.parts()
            let r = GPIOCommand.resolve(line, on: parts.board)
            let l = try hardware(GPIOCommand.label(r)) {
                try parts.backend.openGPIOLine(r.ref.address, config: r.ref.config(.input, edges: .both, consumer: "evsectl"))
            }
            let initial = try hardware(GPIOCommand.label(r)) { try l.read() }
            emit("\(GPIOCommand.label(r)): \(initial ? 1 : 0) (watching)")
            try watch.loop { _ in
                let events = try hardware(GPIOCommand.label(r)) { try l.drainEdgeEvents() }
                for e in events {
                    emit("\(e.timestamp.microseconds) \(e.edge.rawValue) -> \(e.edge == .rising ? 1 : 0)")
                }
                return true
            }
        }
    }
}
