import ChargingCore
import OCPP201Messages
import OCPPJSON
import StationPort

/// TransactionEvent (E01–E15): the events of a core session, which is the 2.0.1 transaction
/// (its id is the transactionId).
enum TransactionEventOperation {
    typealias Request = TransactionEventRequest

    /// The session began: authorized and plugged in, the power path closing. The trigger is
    /// what completed it: the remote start, the token, or the cable (free vend).
    static func started(_ s: Session, seqNo: Int, offline: Bool, remoteStartId: Int?) -> Request {
        let trigger: Request.TriggerReasonEnumType = switch s.startReason {
        case .remote: .remoteStart
        case .local: .authorized
        case .freeVend: .cablePluggedIn
        }
        return Request(
            eventType: .started,
            meterValue: [register(s.meterStartWh, .transactionBegin, atUnixMs: s.startedAtUnixMs)],
            timestamp: OCPPTimestamp.string(unixMs: s.startedAtUnixMs), triggerReason: trigger, seqNo: seqNo,
            offline: offline ? true : nil, cableMaxCurrent: cableMaxCurrent(s), reservationId: s.reservationId,
            transactionInfo: .init(transactionId: s.id, chargingState: .evConnected, remoteStartId: remoteStartId),
            evse: EVSEType(id: s.connectorId, connectorId: 1),
            idToken: s.startReason == .freeVend ? nil : OCPP201Terms.idTokenType(s.idToken))
    }

    /// TxStartPoint EVConnected or Authorized, and the EV or the token came first: the
    /// transaction begins with the core's session prelude, under the id the session will take.
    /// Plugged in: CablePluggedIn, EVConnected, no token yet. Authorized: the token (or the
    /// remote start), Idle until the EV comes.
    static func started(_ p: SessionPrelude, seqNo: Int, offline: Bool, remoteStartId: Int?) -> Request {
        let trigger: Request.TriggerReasonEnumType = p.cause == .evConnected ? .cablePluggedIn
            : p.startReason == .remote ? .remoteStart : .authorized
        return Request(
            eventType: .started,
            meterValue: p.meterWh.map { [register($0, .transactionBegin, atUnixMs: p.beganAtUnixMs)] },
            timestamp: OCPPTimestamp.string(unixMs: p.beganAtUnixMs), triggerReason: trigger, seqNo: seqNo,
            offline: offline ? true : nil,
            transactionInfo: .init(transactionId: p.id, chargingState: p.cause == .evConnected ? .evConnected : .idle,
                                   remoteStartId: remoteStartId),
            evse: EVSEType(id: p.connectorId, connectorId: 1),
            idToken: p.idToken.map(OCPP201Terms.idTokenType))
    }

    /// The session opened in a transaction its prelude began: an Updated event with what
    /// completed it — the token (Authorized, RemoteStart; its idToken, not sent before) after
    /// the EV, or the EV (CablePluggedIn) after the token.
    static func sessionStarted(_ s: Session, seqNo: Int, offline: Bool, remoteStartId: Int?) -> Request {
        let trigger: Request.TriggerReasonEnumType
        if s.preludeCause == .authorized {
            trigger = .cablePluggedIn
        } else {
            trigger = switch s.startReason {
            case .remote: .remoteStart
            case .local: .authorized
            case .freeVend: .chargingStateChanged
            }
        }
        let tokenSent = s.preludeCause == .authorized || s.startReason == .freeVend
        return Request(
            eventType: .updated, timestamp: OCPPTimestamp.string(unixMs: s.startedAtUnixMs), triggerReason: trigger,
            seqNo: seqNo, offline: offline ? true : nil, cableMaxCurrent: cableMaxCurrent(s), reservationId: s.reservationId,
            transactionInfo: .init(transactionId: s.id, chargingState: .evConnected, remoteStartId: remoteStartId),
            evse: EVSEType(id: s.connectorId, connectorId: 1),
            idToken: tokenSent ? nil : OCPP201Terms.idTokenType(s.idToken))
    }

    /// A transaction its prelude began ended with no session: the EV left before a token came
    /// (EVCommunicationLost, EVDisconnected), the token's EVConnectionTimeOut ran out
    /// (EVConnectTimeout, Timeout), a stop (RequestStopTransaction, a reset, a fault). No energy
    /// flowed.
    static func ended(_ p: SessionPrelude, _ end: SessionPreludeEnd, seqNo: Int, offline: Bool,
                      withEnergyRegisters: Bool) -> Request {
        let begin = p.meterWh ?? end.meterWh
        let meterValues: [MeterValueType]? = withEnergyRegisters ? begin.map { b in
            [register(b, .transactionBegin, atUnixMs: p.beganAtUnixMs),
             register(end.meterWh ?? b, .transactionEnd, atUnixMs: end.atUnixMs)]
        } : nil
        let evAway = p.cause == .authorized || end.reason == .evDisconnected
        return Request(
            eventType: .ended, meterValue: meterValues,
            timestamp: OCPPTimestamp.string(unixMs: end.atUnixMs), triggerReason: trigger(endedBy: end.reason), seqNo: seqNo,
            offline: offline ? true : nil,
            transactionInfo: .init(transactionId: p.id, chargingState: evAway ? .idle : .evConnected,
                                   timeSpentCharging: 0, stoppedReason: stoppedReason(end.reason)),
            evse: EVSEType(id: p.connectorId, connectorId: 1))
    }

    /// The cable's rating in whole amperes, as the Started event reports it; nil when unknown.
    static func cableMaxCurrent(_ s: Session) -> Int? {
        guard let a = s.cableMaxCurrentA, a.isFinite, a > 0 else { return nil }
        return Int(a.rounded(.down))
    }

    /// TxStartPoint EnergyTransfer: the transaction begins with the first energy of the session
    /// (ChargingStateChanged to Charging), the register then as its Transaction.Begin.
    static func startedByEnergy(_ s: Session, seqNo: Int, offline: Bool, remoteStartId: Int?, energyWh: Double,
                                atUnixMs: UInt64) -> Request {
        Request(
            eventType: .started, meterValue: [register(energyWh, .transactionBegin, atUnixMs: atUnixMs)],
            timestamp: OCPPTimestamp.string(unixMs: atUnixMs), triggerReason: .chargingStateChanged, seqNo: seqNo,
            offline: offline ? true : nil, cableMaxCurrent: cableMaxCurrent(s), reservationId: s.reservationId,
            transactionInfo: .init(transactionId: s.id, chargingState: .charging, remoteStartId: remoteStartId),
            evse: EVSEType(id: s.connectorId, connectorId: 1),
            idToken: s.startReason == .freeVend ? nil : OCPP201Terms.idTokenType(s.idToken))
    }

    /// The session ended: why (stoppedReason) and what ended it (triggerReason), with the
    /// energy registers at its begin and end (TxEnded data).
    static func ended(_ s: Session, seqNo: Int, offline: Bool, withEnergyRegisters: Bool) -> Request {
        let stoppedAt = s.stoppedAtUnixMs ?? s.startedAtUnixMs
        let reason = s.stopReason ?? .other
        let meterValues = withEnergyRegisters
            ? [register(s.meterStartWh, .transactionBegin, atUnixMs: s.startedAtUnixMs),
               register(s.meterStopWh ?? s.lastKnownEnergyWh, .transactionEnd, atUnixMs: stoppedAt)]
            : nil
        return Request(
            eventType: .ended, meterValue: meterValues,
            timestamp: OCPPTimestamp.string(unixMs: stoppedAt), triggerReason: trigger(endedBy: reason), seqNo: seqNo,
            offline: offline ? true : nil,
            transactionInfo: .init(transactionId: s.id, chargingState: reason == .evDisconnected ? .idle : .evConnected,
                                   timeSpentCharging: secondsCharging(s, until: stoppedAt), stoppedReason: stoppedReason(reason)),
            evse: EVSEType(id: s.connectorId, connectorId: 1),
            idToken: s.stopIdToken.map(OCPP201Terms.idTokenType))
    }

    /// An Updated event: a change of the charging state, a meter value, a trigger.
    static func updated(transactionId: String, evseId: Int, seqNo: Int, offline: Bool, trigger: Request.TriggerReasonEnumType,
                        chargingState: Request.TransactionType.ChargingStateEnumType?, meterValues: [MeterValueType]?,
                        numberOfPhasesUsed: Int?, atUnixMs: UInt64) -> Request {
        Request(eventType: .updated, meterValue: meterValues, timestamp: OCPPTimestamp.string(unixMs: atUnixMs),
                triggerReason: trigger, seqNo: seqNo, offline: offline ? true : nil, numberOfPhasesUsed: numberOfPhasesUsed,
                transactionInfo: .init(transactionId: transactionId, chargingState: chargingState),
                evse: EVSEType(id: evseId, connectorId: 1))
    }

    static func trigger(endedBy reason: StopReason) -> Request.TriggerReasonEnumType {
        switch reason {
        case .local: .stopAuthorized
        case .remote: .remoteStop
        case .evDisconnected: .evCommunicationLost
        case .hardReset, .softReset, .reboot: .resetCommand
        case .unlockCommand: .unlockCommand
        case .deAuthorized: .deauthorized
        case .timeout: .evConnectTimeout
        case .stoppedByEV: .chargingStateChanged
        case .emergencyStop, .groundFault, .overcurrentFault, .powerLoss, .other: .abnormalCondition
        }
    }

    static func stoppedReason(_ reason: StopReason) -> Request.TransactionType.ReasonEnumType {
        switch reason {
        case .local: .local
        case .remote: .remote
        case .evDisconnected: .evDisconnected
        case .emergencyStop: .emergencyStop
        case .hardReset: .immediateReset
        case .softReset, .reboot: .reboot
        case .powerLoss: .powerLoss
        case .deAuthorized: .deAuthorized
        case .groundFault: .groundFault
        case .overcurrentFault: .overcurrentFault
        case .timeout: .timeout
        case .stoppedByEV: .stoppedByEV
        case .unlockCommand, .other: .other
        }
    }

    /// The core's connector status as a transaction's charging state.
    static func chargingState(_ status: ConnectorStatus?) -> Request.TransactionType.ChargingStateEnumType? {
        switch status {
        case .charging?: .charging
        case .suspendedEV?: .suspendedEV
        case .suspendedEVSE?: .suspendedEVSE
        case .preparing?, .finishing?: .evConnected
        case .available?: .idle
        case .reserved?, .unavailable?, .faulted?, nil: nil
        }
    }

    static func secondsCharging(_ s: Session, until end: UInt64) -> Int {
        var ms = end > s.startedAtUnixMs ? end - s.startedAtUnixMs : 0
        for p in s.suspendedPeriods {
            let to = p.toUnixMs ?? end
            if to > p.fromUnixMs { ms -= min(ms, to - p.fromUnixMs) }
        }
        return Int(ms / 1_000)
    }

    static func register(_ wh: Double, _ context: ReadingContextEnumType, atUnixMs: UInt64) -> MeterValueType {
        MeterValueType(sampledValue: [SampledValueType(value: rounded(wh), context: context, measurand: .energyActiveImportRegister,
                                                       unitOfMeasure: UnitOfMeasureType(unit: "Wh"))],
                       timestamp: OCPPTimestamp.string(unixMs: atUnixMs))
    }

    static func rounded(_ value: Double) -> Double { value.isFinite ? (value * 10).rounded() / 10 : 0 }
}

/// MeterValues (J): what the station's meter gives, for the measurands asked for.
enum MeterValueSampling {
    /// A meter value of `measurands` from the connector's latest readings; nil when none is there.
    static func meterValue(_ c: ConnectorSnapshot, measurands: [String], context: ReadingContextEnumType,
                           atUnixMs: UInt64) -> MeterValueType? {
        var values: [SampledValueType] = []
        for name in measurands {
            switch MeasurandEnumType(rawValue: name) {
            case .energyActiveImportRegister?:
                if let wh = c.energyWh {
                    values.append(.init(value: TransactionEventOperation.rounded(wh), context: context, measurand: .energyActiveImportRegister,
                                        unitOfMeasure: .init(unit: "Wh")))
                }
            case .powerActiveImport?:
                if let w = c.powerW {
                    values.append(.init(value: TransactionEventOperation.rounded(w), context: context, measurand: .powerActiveImport,
                                        unitOfMeasure: .init(unit: "W")))
                }
            case .currentImport?:
                let phases: [PhaseEnumType] = [.l1, .l2, .l3]
                for (i, a) in c.currentsA.prefix(3).enumerated() {
                    values.append(.init(value: TransactionEventOperation.rounded(a), context: context, measurand: .currentImport,
                                        phase: phases[i], unitOfMeasure: .init(unit: "A")))
                }
            default:
                continue  // not measured by this station's meter
            }
        }
        return values.isEmpty ? nil : MeterValueType(sampledValue: values, timestamp: OCPPTimestamp.string(unixMs: atUnixMs))
    }

    /// The phases that carry current (more than 1 A); nil when the meter gives no currents.
    static func phasesUsed(_ c: ConnectorSnapshot) -> Int? {
        guard !c.currentsA.isEmpty else { return nil }
        let n = c.currentsA.filter { $0 > 1 }.count
        return n > 0 ? n : nil
    }
}
