import ArgumentParser
import EVSESimulator
import Foundation

struct ServerOptions: ParsableArguments {
    @Option(help: "Sim board file (e.g. Board/sim-2x22kw.yaml): connectors, ratings, meter maps.")
    var board: String?

    @Option(help: "Number of connectors when no board file is given.")
    var connectors: Int = 2

    @Option(help: "HTTP control API and web page (HOST:PORT; port 0 picks a free one).")
    var http: String = "127.0.0.1:8088"

    @Option(help: "Firmware line-protocol socket (HOST:PORT), see Hardware-sim/PROTOCOL.md. Default: the board's simulator.address, else 127.0.0.1:8089.")
    var hal: String?

    @Option(help: "Modbus TCP meters (HOST:PORT); unit id = connector id. Default: the board's meter bus, else 127.0.0.1:5020.")
    var modbus: String?

    func parse(_ s: String, _ option: String) throws -> HostPort {
        guard let hp = HostPort(s) else { throw ValidationError("--\(option) must be HOST:PORT, got \"\(s)\"") }
        return hp
    }

    func load() throws -> BoardConfigLoader.Loaded {
        if let board {
            do {
                return try BoardConfigLoader.load(path: board)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        guard (1...16).contains(connectors) else { throw ValidationError("--connectors must be within 1…16, got \(connectors)") }
        return .init(config: .standard(connectors: connectors), halAddress: nil, modbusAddress: nil)
    }

    func start() async throws -> SimulatorRuntime {
        let loaded = try load()
        let config = loaded.config
        let addrs = SimulatorRuntime.Addresses(
            http: try parse(http, "http"),
            hal: try hal.map { try parse($0, "hal") } ?? loaded.halAddress ?? HostPort(host: "127.0.0.1", port: 8089),
            modbus: try modbus.map { try parse($0, "modbus") } ?? loaded.modbusAddress ?? HostPort(host: "127.0.0.1", port: 5020))
        do {
            return try await SimulatorRuntime(config: config, addresses: addrs)
        } catch {
            throw ValidationError("cannot listen: \(error) (hal \(addrs.hal), modbus \(addrs.modbus))")
        }
    }
}

func announce(_ runtime: SimulatorRuntime, httpHost: String, httpPort: Int) {
    let line = "evse-sim ready http=\(httpHost):\(httpPort) hal=\(runtime.hal.port) modbus=\(runtime.modbus.port) connectors=\(runtime.simulator.config.connectors.count)"
    say(line)
    say("open http://\(httpHost):\(httpPort)/ in a browser")
}

/// Unbuffered, so a test or script reading our stdout sees the ready line at once.
func say(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

@main
struct EVSESim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evse-sim",
        abstract: "The SwiftEVSE hardware simulator: a desktop charger the unchanged firmware runs against.",
        subcommands: [Serve.self, Run.self],
        defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Simulate the charger until stopped.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let signals = exitOnTerminationSignals()
            let runtime = try await options.start()
            let host = try options.parse(options.http, "http").host
            try await runtime.run { port in announce(runtime, httpHost: host, httpPort: port) }
            withExtendedLifetime(signals) {}
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a scenario file against the simulated charger; exit 1 on the first failed expectation.")
        @Argument(help: "Scenario file (format: Hardware-sim/README.md).")
        var scenario: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let script: Scenario
            do {
                script = try Scenario.load(path: scenario)
            } catch {
                FileHandle.standardError.write(Data("evse-sim: \(error)\n".utf8))
                throw ExitCode(2)
            }
            let signals = exitOnTerminationSignals()
            let runtime = try await options.start()
            let host = try options.parse(options.http, "http").host
            let (ready, readySignal) = AsyncStream<Void>.makeStream()
            let server = Task {
                try await runtime.run { port in
                    announce(runtime, httpHost: host, httpPort: port)
                    readySignal.yield()
                }
            }
            // Steps start once the page is up, so a person can watch the run.
            var it = ready.makeAsyncIterator()
            _ = await it.next()
            let ok = await ScenarioRunner(simulator: runtime.simulator, log: { say($0) }).run(script)
            server.cancel()
            withExtendedLifetime(signals) {}
            // The servers need no orderly goodbye: leave with the scenario's verdict.
            Foundation.exit(ok ? 0 : 1)
        }
    }
}
