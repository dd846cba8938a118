import HAL

extension LinuxBackend {
    /// Modbus buses (RS-485 RTU or TCP) go through libmodbus; see Modbus/LinuxModbusBus.swift.
    func makeModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus {
        try LinuxModbusBus(config: config)
    }
}
