/// The time before a session opens in which its id is already known: from the first of "EV
/// plugged in" and "token authorized" until the other one opens the session (or the first one
/// goes away again).
///
/// Why it exists: an OCPP 2.0.1 transaction may begin before the core's session does
/// (TxStartPoint EVConnected or Authorized). The 2.0.1 adapter begins it under the prelude's id,
/// and the session that follows takes that id, so it continues the same transaction; when no
/// session follows, the prelude's end ends the transaction. OCPP 1.6 has no use for it and
/// ignores it. The prelude is journaled (`SessionRecordChange.preludeBegan`/`preludeEnded`): a
/// restart keeps the id and, for an authorized prelude, the grant.
public struct SessionPrelude: Hashable, Sendable {
    /// What began it.
    public enum Cause: String, Hashable, Sendable, Codable, CaseIterable {
        /// The EV was plugged in before any token was authorized.
        case evConnected
        /// A token was authorized (or a remote start accepted) before the EV was plugged in.
        case authorized
    }

    /// The id the session will have.
    public var id: String
    public var connectorId: Int
    public var cause: Cause
    /// The authorized token and how it was granted (`.authorized` only).
    public var idToken: IdToken?
    public var parentIdToken: IdToken?
    public var startReason: SessionStartReason?
    public var beganAtUnixMs: UInt64
    /// The meter's import register when it began, if the meter had been read.
    public var meterWh: Double?

    public init(id: String, connectorId: Int, cause: Cause, idToken: IdToken? = nil, parentIdToken: IdToken? = nil,
                startReason: SessionStartReason? = nil, beganAtUnixMs: UInt64, meterWh: Double? = nil) {
        self.id = id
        self.connectorId = connectorId
        self.cause = cause
        self.idToken = idToken
        self.parentIdToken = parentIdToken
        self.startReason = startReason
        self.beganAtUnixMs = beganAtUnixMs
        self.meterWh = meterWh
    }
}

/// How a prelude ended without a session: why (a `StopReason`, as a session's), when, and the
/// meter's register then.
public struct SessionPreludeEnd: Hashable, Sendable {
    public var reason: StopReason
    public var atUnixMs: UInt64
    public var meterWh: Double?

    public init(reason: StopReason, atUnixMs: UInt64, meterWh: Double? = nil) {
        self.reason = reason
        self.atUnixMs = atUnixMs
        self.meterWh = meterWh
    }
}
