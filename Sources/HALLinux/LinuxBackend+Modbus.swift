import HAL

// Stand-in until the libmodbus bus (Sources/HALLinux/Modbus, the meter work) is merged; the
// merge replaces this file with `try LinuxModbusBus(config: config)`.
extension LinuxBackend {
    func makeModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus {
        throw HardwareError(.deviceMissing, device: config.name, "Modbus backend not built (libmodbus bus not merged yet)")
    }
}
