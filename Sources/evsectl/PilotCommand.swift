import ArgumentParser
import BoardDescription
import Drivers
import HAL

struct PilotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pilot", abstract: "Control pilot: sense the state, set the PWM.",
                                                    subcommands: [Sense.self, PWM.self])

    /// Samples until the debounced state is known (or gives up), so a single `pilot sense`
    /// prints a settled state rather than "unknown".
    static func settle(_ pilot: ControlPilot, samples: Int = 20) throws -> CPState? {
        for _ in 0..<samples {
            _ = try pilot.sample(at: clock.now())
            if let s = pilot.currentState { return s }
            sleep(milliseconds: 5)
        }
        return pilot.currentState
    }

    static func describe(_ pilot: ControlPilot) -> String {
        var s = "state \(pilot.currentState?.rawValue ?? "?")"
        if let v = pilot.lastVolts {
            s += ", high \(formatNumber(v.high)) V"
            if let low = v.low { s += ", low \(formatNumber(low)) V" }
        }
        if pilot.diodeFault { s += ", DIODE FAULT" }
        return s
    }

    struct Sense: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the CP state (A…F) and the measured CP voltages.")
        @OptionGroup var options: BoardOptions
        @OptionGroup var connectorOption: ConnectorOption
        @Flag(name: .long, help: "Keep sampling and print every state change.")
        var watch = false
        @OptionGroup var watchOptions: WatchOptions

        func run() throws {
            let parts = try options.parts()
            let c = try connectorOption.pick(parts.board)
            let pilot = try hardware("c\(c.id).pilot") { try parts.pilot(c) }
            _ = try hardware("c\(c.id).pilot") { try PilotCommand.settle(pilot) }
            emit("connector \(c.id): \(PilotCommand.describe(pilot))")
            guard watch else { return }
            try watchOptions.loop { now in
                if let change = try hardware("c\(c.id).pilot", { try pilot.sample(at: now) }) {
                    emit("connector \(c.id): \(change.from?.rawValue ?? "?") -> \(change.to.rawValue) at \(change.at.microseconds) µs (\(PilotCommand.describe(pilot)))")
                }
                return true
            }
        }
    }

    struct PWM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pwm", abstract: "Set the CP output: offer a current, or 100 % / 5 % / state F.",
            discussion: "The setting stays on the PWM channel after evsectl exits (sysfs keeps it; the simulator keeps it while evsectl is connected, use --hold).")
        @OptionGroup var options: BoardOptions
        @OptionGroup var connectorOption: ConnectorOption
        @Option(name: .long, help: "Offer this current in A (6…80, at most the connector's limit).")
        var current: Double?
        @Flag(name: .long, help: "Steady +12 V (100 %): not ready.") var notReady = false
        @Flag(name: .long, help: "5 % duty: digital communication.") var digital = false
        @Flag(name: .long, help: "Steady −12 V: state F.") var stateF = false
        @Option(name: .long, help: "Keep the output set for this many seconds before exiting.")
        var hold: Double?

        func validate() throws {
            let chosen = [current != nil, notReady, digital, stateF].filter { $0 }.count
            guard chosen == 1 else { throw ValidationError("give exactly one of --current, --not-ready, --digital, --state-f") }
        }

        func run() throws {
            let parts = try options.parts()
            let c = try connectorOption.pick(parts.board)
            let pilot = try hardware("c\(c.id).pilot") { try parts.pilot(c) }
            try hardware("c\(c.id).pilot") {
                if let current { try pilot.offer(current: current) }
                else if notReady { try pilot.setNotReady() }
                else if digital { try pilot.setDigitalCommunication() }
                else { try pilot.setStateF() }
            }
            switch pilot.output {
            case let .offering(amps, duty)?: emit("connector \(c.id): offering \(formatNumber(amps)) A (duty \(formatNumber(duty)) %)")
            case .notReady?: emit("connector \(c.id): not ready (100 %)")
            case .digitalCommunication?: emit("connector \(c.id): digital communication (5 %)")
            case .stateF?: emit("connector \(c.id): state F (−12 V)")
            case nil: emit("connector \(c.id): output unchanged")
            }
            if let hold { sleep(milliseconds: Int(hold * 1000)) }
        }
    }
}
