import HAL

/// What a backend may ask of the machine beyond events: its decision on a remote start before
/// it is made, and the session rules it may change while the station runs.
extension ConnectorStateMachine {
    /// Whether a remote start for `token` would be taken now: no session, operative, no fault
    /// that blocks energy, and — on a reserved connector — the reserved token or its parent.
    /// The one rule `handle(.remoteStart)` applies; a backend asks it before answering.
    public func takesRemoteStart(_ token: IdToken, parentIdToken parent: IdToken?) -> Bool {
        guard acceptsRemoteStart else { return false }
        if let r = reservation { return Self.matches(r, token, parent) }
        return true
    }

    /// The backend changed a session rule (OCPP ConnectionTimeOut,
    /// StopTransactionOnEVSideDisconnect, UnlockConnectorOnEVSideDisconnect): it governs the next
    /// decision it applies to, in a running session too. Returns the commands a changed rule
    /// causes now (a lapsed authorization, a lock to release), in order.
    public mutating func updateSessionRules(connectionTimeout: EVSEDuration, stopOnEVSideDisconnect: Bool,
                                            unlockOnEVSideDisconnect: Bool, at now: MonotonicInstant) -> [ConnectorCommand] {
        config.connectionTimeout = connectionTimeout
        config.stopOnEVSideDisconnect = stopOnEVSideDisconnect
        config.unlockOnEVSideDisconnect = unlockOnEVSideDisconnect
        return handle(.tick, at: now)
    }
}
