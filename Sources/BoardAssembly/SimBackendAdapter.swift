import HAL
import HALSim

// The simulator backend (branch `hal`) is not merged yet; its announced initializer is
// `SimBackend(host:port:)`. Until it lands, a sim board cannot be brought up.
extension BackendFactory {
    static func makeSimBackend(host: String, port: Int) throws -> any HardwareBackend {
        throw HardwareError(.deviceMissing, device: "simulator \(host):\(port)",
                            "sim backend not built yet (HALSim's SimBackend is not merged)")
    }
}
