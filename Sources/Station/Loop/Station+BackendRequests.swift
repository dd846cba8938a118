import ChargingCore
import HAL
import StationPort
import Storage

/// What a backend may ask of the station: the entry points `LoopStationPort` calls between two
/// steps, on the loop's thread. Each answer is the core's own decision.
extension Station {
    /// The connectors as they are now, in id order.
    public var snapshots: [ConnectorSnapshot] {
        connectors.map { c in
            ConnectorSnapshot(id: c.id, status: c.machine.status, error: c.machine.errorKind,
                              vehicleConnected: c.machine.pilot?.vehicleConnected ?? false, session: c.machine.session,
                              energyWh: c.lastMeterSample?.energyWh, powerW: c.lastMeterSample?.powerW,
                              currentsA: c.lastMeterSample?.currentsA ?? [], reservationId: c.machine.reservation?.id,
                              prelude: c.machine.prelude)
        }
    }

    /// The connector's latest meter reading (what MeterValues report).
    public func lastMeterSample(connector id: Int) -> MeterSample? {
        connectors.first { $0.id == id }?.lastMeterSample
    }

    /// A remote start: the machine treats it as an authorized token (cable first or start first).
    public func remoteStart(connector id: Int, idToken: IdToken, at now: MonotonicInstant) {
        _ = remoteStart(connector: id, idToken: idToken, parentIdToken: nil, at: now)
    }

    /// A remote start on `id` (nil: the connector with an EV plugged in and waiting, else the
    /// first that takes it). Returns the connector that took it; nil when none would (the
    /// machines decide: no session, operative, no fault, and a reservation only for its token
    /// or its parent). With `dryRun` nothing starts.
    public func remoteStart(connector id: Int?, idToken: IdToken, parentIdToken: IdToken?, dryRun: Bool = false,
                            at now: MonotonicInstant) -> Int? {
        let candidates = id.map { wanted in connectors.filter { $0.id == wanted } }
            ?? connectors.filter { $0.machine.pilot?.vehicleConnected ?? false } + connectors
        guard let c = candidates.first(where: { $0.machine.takesRemoteStart(idToken, parentIdToken: parentIdToken) }) else {
            logger.notice("remote start for \(idToken.value) on \(id.map { "c\($0)" } ?? "any connector"): refused")
            return nil
        }
        guard !dryRun else { return c.id }
        logger.notice("c\(c.id): remote start for \(idToken.value)")
        dispatch(c, .remoteStart(idToken, parentIdToken: parentIdToken), at: now, unixMs: wallClock.unixMilliseconds())
        return c.id
    }

    /// The backend refused the session's token but keeps its transaction: after
    /// `energyAllowanceWh` more (MaxEnergyOnInvalidId; 0: at once) energy is withheld (the
    /// contactor opens once the EV stops drawing, as after a withdrawn PWM) until it is stopped.
    /// False when that session does not run on the connector.
    public func deauthorizeSession(connector id: Int, sessionId: String, energyAllowanceWh: Double = 0,
                                   at now: MonotonicInstant) -> Bool {
        guard let c = connectors.first(where: { $0.id == id }), c.machine.session?.id == sessionId else { return false }
        logger.notice(energyAllowanceWh > 0
            ? "c\(id): session \(sessionId) deauthorized by the backend: \(Int(energyAllowanceWh)) Wh more (MaxEnergyOnInvalidId), then energy withheld; the transaction stays open"
            : "c\(id): session \(sessionId) deauthorized by the backend: energy withheld, the transaction stays open")
        dispatch(c, .deauthorized(energyAllowanceWh: max(0, energyAllowanceWh)), at: now, unixMs: wallClock.unixMilliseconds())
        return true
    }

    /// Every running session stops (a reset); their stops are on disk when this returns.
    public func stopAllSessions(reason: StopReason, at now: MonotonicInstant) {
        for c in connectors {
            // A prelude ends too: an OCPP 2.0.1 transaction may have begun with it.
            guard let id = c.machine.session?.id ?? c.machine.prelude?.id else { continue }
            _ = stopSession(connector: c.id, sessionId: id, reason: reason, at: now)
        }
    }

    public func stopSession(connector id: Int, reason: StopReason, at now: MonotonicInstant) {
        guard let c = connectors.first(where: { $0.id == id }) else { return }
        logger.notice("c\(id): stop requested (\(reason.rawValue))")
        dispatch(c, .stopRequested(reason), at: now, unixMs: wallClock.unixMilliseconds())
    }

    /// Stops the session `sessionId` if it still runs on the connector. True when the core took
    /// the stop: the session ended, or its stop is in the journal (the contactor may still be
    /// waiting for the EV to stop drawing), so a restart ends it rather than resuming it.
    /// `sessionId` may also be the id of the connector's prelude (an OCPP 2.0.1 transaction
    /// begun before its session): the prelude then ends, with no session.
    public func stopSession(connector id: Int, sessionId: String, reason: StopReason, at now: MonotonicInstant) -> Bool {
        guard let c = connectors.first(where: { $0.id == id }) else { return false }
        if c.machine.session == nil, c.machine.prelude?.id == sessionId {
            logger.notice("c\(id): end of prelude \(sessionId) requested (\(reason.rawValue))")
            dispatch(c, .stopRequested(reason), at: now, unixMs: wallClock.unixMilliseconds())
            return c.machine.prelude?.id != sessionId && !c.stopNotKept
        }
        guard c.machine.session?.id == sessionId else { return false }
        logger.notice("c\(id): stop of session \(sessionId) requested (\(reason.rawValue))")
        dispatch(c, .stopRequested(reason), at: now, unixMs: wallClock.unixMilliseconds())
        guard let still = c.machine.session, still.id == sessionId else { return true }
        return still.requestedStop != nil && !c.stopNotKept
    }

    public func unlockConnector(_ id: Int, at now: MonotonicInstant) {
        guard let c = connectors.first(where: { $0.id == id }) else { return }
        dispatch(c, .unlockRequested, at: now, unixMs: wallClock.unixMilliseconds())
    }

    /// The machine answers Accepted or Scheduled (while a session runs) and persists it.
    /// Connector 0: every connector; Scheduled when any of them is. Nil: no such connector.
    @discardableResult
    public func setAvailability(connector id: Int, operative: Bool, at now: MonotonicInstant) -> AvailabilityAnswer? {
        let targets = id == 0 ? connectors : connectors.filter { $0.id == id }
        guard !targets.isEmpty else { return nil }
        var answer = AvailabilityAnswer.accepted
        for c in targets {
            eventsSinceAllocation += 1
            let commands = c.machine.handle(.setAvailability(operative: operative), at: now, unixMs: wallClock.unixMilliseconds())
            for case .availabilityAnswered(.scheduled) in commands { answer = .scheduled }
            execute(c, commands, at: now)
        }
        return answer
    }

    /// Authorization rules a backend changed: the next authorization follows them.
    public func apply(_ rules: AuthorizationRules) {
        var policy = authorization.policy
        policy.localPreAuthorize = rules.localPreAuthorize
        policy.localAuthorizeOffline = rules.localAuthorizeOffline
        policy.allowOfflineTxForUnknownId = rules.allowOfflineTxForUnknownId
        policy.cacheEnabled = rules.cacheEnabled
        policy.localListEnabled = rules.localListEnabled
        authorization.policy = policy
        let eviction = AuthorizationCacheStore.Eviction(rawValue: rules.cacheEviction) ?? .leastRecentlyUsed
        storage.authorizationCache.rules = AuthorizationCacheStore.Rules(
            eviction: eviction, lifeTimeSeconds: rules.cacheLifeTimeSeconds.map { Int64($0) })
    }

    /// Session rules a backend changed: every connector's next decision follows them.
    public func apply(_ rules: SessionRules, at now: MonotonicInstant) {
        for c in connectors {
            execute(c, c.machine.updateSessionRules(connectionTimeout: rules.connectionTimeout,
                                                    stopOnEVSideDisconnect: rules.stopOnEVSideDisconnect,
                                                    unlockOnEVSideDisconnect: rules.unlockOnEVSideDisconnect, at: now), at: now)
        }
    }

    /// Tokens go to the backend (an OCPP Authorize) when the policy says so.
    public func useAuthorizationBackend(_ backend: any AuthorizationBackend, online: Bool) {
        authorization.backend = backend
        if online, authorization.policy.mode != .freeVend { authorization.policy.mode = .online }
    }

    public var authorizationPolicy: AuthorizationPolicy {
        get { authorization.policy }
        set { authorization.policy = newValue }
    }

    /// The backend answered (or failed to answer: nil) an authorization the connector waits for.
    public func authorizationAnswered(_ token: IdToken, _ info: AuthorizationInfo?, connector id: Int, at now: MonotonicInstant) {
        let unix = wallClock.unixMilliseconds()
        let decision = info.map { authorization.backendAnswered(token, $0, atUnixMs: unix) }
            ?? authorization.backendFailed(token, atUnixMs: unix)
        logger.info("card \(token.value): backend decision \(decision)")
        guard let c = connectors.first(where: { $0.id == id }), let result = decision.info else { return }
        dispatch(c, .authorizationResult(token, result), at: now, unixMs: unix)
    }

    /// What the backend said about a token outside an authorization (a StartTransaction's
    /// answer): into the cache, so an offline decision later knows its status and expiry.
    public func rememberAuthorization(_ token: IdToken, _ info: AuthorizationInfo) {
        authorization.remember(token, info, atUnixMs: wallClock.unixMilliseconds())
    }

    public func clearAuthorizationCache() {
        authorization.cache.clear()
    }

    /// A reservation (OCPP ReserveNow): the machine answers at once (Accepted, Occupied, Faulted,
    /// Unavailable, Rejected); nil when the connector does not exist. The backend's wall-clock
    /// expiry becomes a monotonic deadline, so a later clock change does not move it.
    public func reserve(connector id: Int, reservationId: Int, idToken: IdToken, parentIdToken: IdToken?,
                        expiresAtUnixMs: UInt64, at now: MonotonicInstant) -> ReservationAnswer? {
        guard let c = connectors.first(where: { $0.id == id }) else { return nil }
        let unix = wallClock.unixMilliseconds()
        let remainingMs = expiresAtUnixMs > unix ? Int64(min(expiresAtUnixMs - unix, 315_360_000_000)) : 0  // at most ten years
        let r = Reservation(id: reservationId, idToken: idToken, parentIdToken: parentIdToken,
                            expiresAt: now + .milliseconds(remainingMs))
        // The same id on another connector moves there (OCPP: a ReserveNow with a known id replaces it).
        if let other = connectors.first(where: { $0.id != id && $0.machine.reservation?.id == reservationId }) {
            dispatch(other, .cancelReservation(id: reservationId), at: now, unixMs: unix)
        }
        let commands = c.machine.handle(.reserve(r), at: now, unixMs: unix)
        var answer = ReservationAnswer.rejected
        for case let .reservationAnswered(_, a) in commands { answer = a }
        execute(c, commands, at: now)
        logger.notice("c\(id): reservation \(reservationId) for \(idToken.value): \(answer.rawValue)")
        return answer
    }

    /// Ends a reservation (OCPP CancelReservation); false when no connector holds it.
    public func cancelReservation(id reservationId: Int, at now: MonotonicInstant) -> Bool {
        guard let c = connectors.first(where: { $0.machine.reservation?.id == reservationId }) else { return false }
        dispatch(c, .cancelReservation(id: reservationId), at: now, unixMs: wallClock.unixMilliseconds())
        return true
    }

    /// The connector's reservation id, if it holds one.
    public func reservationId(connector id: Int) -> Int? {
        connectors.first { $0.id == id }?.machine.reservation?.id
    }
}
