import BoardDescription
import HAL
import HALLinux
import HALSim

/// Picks the backend a board file names.
public enum BackendFactory {
    /// `linux` → `LinuxBackend` (libgpiod, sysfs, IIO, /dev/i2c, evdev);
    /// `sim` → `SimBackend` connected to the simulator at the board's address.
    /// `program` names the firmware to the simulator (shown on its page and in its events).
    public static func make(for board: BoardDescription, program: String = "evsectl") throws -> any HardwareBackend {
        switch board.backend {
        case .linux:
            return LinuxBackend()
        case let .sim(host, port):
            guard let p = UInt16(exactly: port) else {
                throw HardwareError(.invalidArgument, device: "simulator \(host):\(port)", "port out of range")
            }
            return SimBackend(host: host, port: p, firmwareName: program,
                              modbusBusFactory: { try LinuxModbusBus(config: $0) })
        }
    }

    /// Modbus through libmodbus on every backend: the simulator serves its meters over real
    /// Modbus TCP, so the sim backend reads them the way a board reads a real meter.
    public static func openModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus {
        try LinuxModbusBus(config: config)
    }
}
