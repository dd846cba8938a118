import Drivers

extension ConnectorStateMachine {
    /// The token authorized for the next session, while it waits for the EV (the display
    /// greets that driver: their price, their language).
    public var grantedToken: IdToken? { phase.grant?.idToken }

    /// The status (and error) the connector reports for its state now.
    func computeStatus() -> (ConnectorStatus, ConnectorErrorKind?) {
        let error = activeFaults.first?.errorKind
        if hasBlockingFault { return (.faulted, error) }
        switch phase {
        case .running:
            if contactorClosed { return (.charging, error) }
            if pilot?.vehicleRequestsCharge ?? false { return (.suspendedEVSE, error) }
            if pilot == .b, !wantsOffer { return (.suspendedEVSE, error) }
            return (.suspendedEV, error)
        case let .stopping(stopping):
            // A session that only waits for its final meter reading, the EV gone, shows what the
            // connector is about to be: the few milliseconds of that wait are no status of their own.
            let onlyReadingLeft = stopping.finalReading != .notAsked && !vehicleConnected
            if !onlyReadingLeft { return (.finishing, error) }
        case .idle:
            break
        }
        if !operative { return (.unavailable, error) }
        if phase.lastSessionStillPlugged { return (.finishing, error) }
        if vehicleConnected || phase.grant != nil || phase.tokenBeingAuthorized != nil { return (.preparing, error) }
        if reservation != nil { return (.reserved, error) }
        return (.available, error)
    }
}
