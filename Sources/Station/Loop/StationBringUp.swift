import BoardAssembly
import BoardDescription
import HAL
import Logging
import Storage

extension Station {
    /// The daemon's way in: the backend the board names (Modbus through libmodbus on every
    /// backend, as the simulator serves real Modbus TCP), the database under the config's data
    /// directory (migrated), then the station.
    public static func open(board: BoardDescription, config: StationConfig, clock: any EVSEClock,
                            logger: Logger = Logger(label: "station"), sessionIdSeed: UInt64 = 0) throws -> Station {
        let backend = try BackendFactory.make(for: board)
        let storage = try StationStorage(dataDirectory: config.dataDirectory)
        return try Station(board: board, backend: backend, modbus: BackendFactory.openModbusBus, config: config,
                           storage: storage, clock: clock, logger: logger, sessionIdSeed: sessionIdSeed)
    }

    /// Closes the database (after `shutdown`).
    public func close() { storage.database.close() }
}
