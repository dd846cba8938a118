import BoardAssembly
import BoardDescription
import HAL
import Logging
import Storage

extension Station {
    /// The daemon's way in: the backend the board names (Modbus through libmodbus on every
    /// backend, as the simulator serves real Modbus TCP), the database under the config's data
    /// directory (checked, a damaged one moved aside; migrated), then the station.
    public static func open(board: BoardDescription, config: StationConfig, clock: any EVSEClock,
                            logger: Logger = Logger(label: "station"), sessionIdSeed: UInt64 = 0) throws -> Station {
        let backend = try BackendFactory.make(for: board, program: "evsed")
        let stamp = fileNameStamp(unixMilliseconds: SystemWallClock().unixMilliseconds())
        let opening = try StationStorage.open(dataDirectory: config.dataDirectory, stamp: stamp)
        if let moved = opening.movedAside {
            // Never deleted: the sessions and queued messages in it may still be recovered by hand.
            logger.critical("storage: the database in \(config.dataDirectory) is damaged (\(opening.damage.map { "\($0)" } ?? "?")); moved aside to \(moved) at \(stamp) UTC and kept; starting a new database")
        }
        let storage = opening.storage
        return try Station(board: board, backend: backend, modbus: BackendFactory.openModbusBus, config: config,
                           storage: storage, clock: clock, wallClock: StationClock.forDaemon(monotonic: clock), logger: logger, sessionIdSeed: sessionIdSeed)
    }

    /// Closes the database (after `shutdown`).
    public func close() { storage.database.close() }
}
