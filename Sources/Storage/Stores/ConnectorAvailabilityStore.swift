/// Whether a connector was set Operative or Inoperative (OCPP ChangeAvailability). Persisted so a
/// connector made Unavailable stays Unavailable across a reboot.
public enum ConnectorAvailability: String, Sendable, CaseIterable {
    case operative = "Operative"
    case inoperative = "Inoperative"
}

public final class ConnectorAvailabilityStore: Sendable {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The stored availability; a connector never changed is operative.
    public func availability(ofConnector connectorId: Int) throws -> ConnectorAvailability {
        try database.withConnection { c in
            try c.queryFirst("SELECT availability FROM connector_availability WHERE connector_id = ?",
                             [.int(connectorId)]) { try Self.decode($0.string(0)) }
        } ?? .operative
    }

    /// Connector 0 stands for the whole station, as in OCPP 1.6.
    public func set(_ availability: ConnectorAvailability, forConnector connectorId: Int) throws {
        guard connectorId >= 0 else { throw StorageError.invalidArgument("connector id \(connectorId) is negative") }
        try database.execute("""
            INSERT INTO connector_availability (connector_id, availability) VALUES (?, ?)
            ON CONFLICT (connector_id) DO UPDATE SET availability = excluded.availability
            """, [.int(connectorId), .text(availability.rawValue)])
    }

    public func all() throws -> [Int: ConnectorAvailability] {
        let pairs = try database.query("SELECT connector_id, availability FROM connector_availability") {
            (try $0.int(0), try Self.decode($0.string(1)))
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    private static func decode(_ stored: String) throws -> ConnectorAvailability {
        guard let value = ConnectorAvailability(rawValue: stored) else {
            throw StorageError.corruptValue(column: "connector_availability.availability", value: stored)
        }
        return value
    }
}
