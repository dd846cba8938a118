import Foundation
import HAL
import Hummingbird
import Logging
import NIOCore

/// Everything `evse-sim serve` runs: the world's ticker, the HAL and Modbus servers and the
/// HTTP control API, on the addresses given.
public final class SimulatorRuntime: Sendable {
    public let simulator: Simulator
    public let hal: BoundServer
    public let modbus: BoundServer
    let httpAddress: HostPort

    public struct Addresses: Sendable {
        public var http: HostPort
        public var hal: HostPort
        public var modbus: HostPort
        public init(http: HostPort = HostPort(host: "127.0.0.1", port: 8088),
                    hal: HostPort = HostPort(host: "127.0.0.1", port: 8089),
                    modbus: HostPort = HostPort(host: "127.0.0.1", port: 5020)) {
            self.http = http
            self.hal = hal
            self.modbus = modbus
        }
    }

    /// Binds the HAL and Modbus sockets (the HTTP server starts in `run`).
    public init(config: SimulatorConfig, addresses: Addresses) async throws {
        simulator = Simulator(config: config)
        hal = try await SimulatorServers.startHAL(simulator, at: addresses.hal)
        modbus = try await SimulatorServers.startModbus(simulator, at: addresses.modbus)
        httpAddress = addresses.http
    }

    /// Serves until cancelled. `onReady` gets the bound HTTP port (useful with port 0).
    public func run(onReady: @escaping @Sendable (Int) -> Void) async throws {
        let sim = simulator
        var logger = Logger(label: "evse-sim.http")
        logger.logLevel = .warning
        let app = Application(
            router: ControlAPI.router(sim),
            configuration: .init(address: .hostname(httpAddress.host, port: httpAddress.port), serverName: "evse-sim"),
            onServerRunning: { channel in onReady(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var n = 0
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(100))
                    sim.tick()
                    n += 1
                    if n % 100 == 0 { sim.keepSubscribersAlive() }
                }
            }
            // Signals are handled by the caller (`exitOnTerminationSignals`): a graceful HTTP
            // shutdown would wait forever for the open event streams.
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// SIGINT/SIGTERM end the simulator at once: it keeps no state worth saving, and open
/// `/api/events` streams would hold up an orderly shutdown indefinitely. Keep the returned
/// sources alive for as long as the handling should last.
public func exitOnTerminationSignals() -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { exit(0) }
        source.resume()
        return source
    }
}
