/// A journaled session prelude (ChargingCore's `SessionPrelude`): the id the next session on a
/// connector will have, handed out when the EV or a token came first. One per connector; the
/// session that follows removes it (`Writer.beginSession`), as does its end without a session.
public struct SessionPreludeRecord: Equatable, Sendable {
    public var sessionId: String
    public var connectorId: Int
    /// "evConnected" or "authorized".
    public var cause: String
    public var idToken: String?
    public var idTokenKind: String?
    public var parentIdToken: String?
    public var startReason: String?
    public var beganAtMs: Int64
    public var meterWh: Double?

    public init(sessionId: String, connectorId: Int, cause: String, idToken: String? = nil, idTokenKind: String? = nil,
                parentIdToken: String? = nil, startReason: String? = nil, beganAtMs: Int64, meterWh: Double? = nil) {
        self.sessionId = sessionId
        self.connectorId = connectorId
        self.cause = cause
        self.idToken = idToken
        self.idTokenKind = idTokenKind
        self.parentIdToken = parentIdToken
        self.startReason = startReason
        self.beganAtMs = beganAtMs
        self.meterWh = meterWh
    }
}

extension SessionJournal {
    /// The preludes a restart must give back to their connectors, by connector.
    public func preludes() throws -> [SessionPreludeRecord] {
        try database.query("SELECT \(Writer.preludeColumns) FROM session_preludes ORDER BY connector_id") {
            try Writer.preludeRecord($0)
        }
    }

    public func prelude(sessionId: String) throws -> SessionPreludeRecord? {
        try database.withConnection { try Writer(connection: $0).prelude(sessionId: sessionId) }
    }
}

extension SessionJournal.Writer {
    /// Records a connector's prelude, replacing one left there (a connector has one at most).
    public func beginPrelude(_ p: SessionPreludeRecord) throws {
        guard !p.sessionId.isEmpty else { throw StorageError.invalidArgument("empty session id") }
        if let meter = p.meterWh, !meter.isFinite {
            throw StorageError.invalidArgument("meter reading \(meter) Wh of prelude '\(p.sessionId)' is not finite")
        }
        try connection.execute("""
            INSERT OR REPLACE INTO session_preludes (connector_id, session_id, cause, id_token, id_token_kind,
                                                     parent_id_token, start_reason, began_at_ms, meter_wh)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(p.connectorId), .text(p.sessionId), .text(p.cause), .text(orNull: p.idToken), .text(orNull: p.idTokenKind),
                  .text(orNull: p.parentIdToken), .text(orNull: p.startReason), .integer(p.beganAtMs),
                  p.meterWh.map { .real($0) } ?? .null])
    }

    /// Removes the prelude of that id (its session started, or it ended without one). True
    /// when there was one.
    @discardableResult
    public func endPrelude(sessionId: String) throws -> Bool {
        try connection.execute("DELETE FROM session_preludes WHERE session_id = ?", [.text(sessionId)])
        return connection.changes > 0
    }

    public func prelude(sessionId: String) throws -> SessionPreludeRecord? {
        try connection.queryFirst("SELECT \(Self.preludeColumns) FROM session_preludes WHERE session_id = ?",
                                  [.text(sessionId)]) { try Self.preludeRecord($0) }
    }

    static let preludeColumns = """
        session_id, connector_id, cause, id_token, id_token_kind, parent_id_token, start_reason, began_at_ms, meter_wh
        """

    static func preludeRecord(_ row: Statement) throws -> SessionPreludeRecord {
        SessionPreludeRecord(sessionId: try row.string(0), connectorId: try row.int(1), cause: try row.string(2),
                             idToken: try row.stringOrNil(3), idTokenKind: try row.stringOrNil(4),
                             parentIdToken: try row.stringOrNil(5), startReason: try row.stringOrNil(6),
                             beganAtMs: try row.int64(7), meterWh: try row.doubleOrNil(8))
    }
}
