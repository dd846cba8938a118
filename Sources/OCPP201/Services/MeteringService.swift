import ChargingCore
import HAL
import OCPP201Messages
import StationPort

/// Metering (block J) and the Updated events of running transactions: every
/// SampledDataCtrlr.TxUpdatedInterval a meter value (MeterValuePeriodic), at every
/// AlignedDataCtrlr.Interval boundary one (MeterValueClock; a MeterValues message where no
/// transaction runs), and every change of a transaction's charging state (ChargingStateChanged).
struct MeteringState {
    var sinceSample = 0
    var lastAlignedBoundary: UInt64?
    /// The charging state each running transaction was last reported in.
    var chargingStates: [String: TransactionEventRequest.TransactionType.ChargingStateEnumType] = [:]
}

extension OCPP201ChargingStation {
    /// Ticks every second so changed intervals apply at once.
    func meterValuesForever() async {
        while !Task.isCancelled {
            await sleep(.seconds(Int64(1)))
            if Task.isCancelled { return }
            await meteringTick()
        }
    }

    /// One second of the metering schedule: the loop calls it every second, tests directly.
    public func meteringTick() async {
        let now = unixMs()
        var sampled = false
        metering.sinceSample += 1
        if settings.sampledDataTxUpdatedInterval > 0, metering.sinceSample >= settings.sampledDataTxUpdatedInterval {
            metering.sinceSample = 0
            sampled = true
        }
        var aligned: UInt64?
        if settings.alignedDataInterval > 0 {
            let period = UInt64(settings.alignedDataInterval) * 1_000
            let boundary = now / period * period
            if let last = metering.lastAlignedBoundary, boundary > last { aligned = boundary }
            metering.lastAlignedBoundary = boundary
        }
        guard sampled || aligned != nil else { return }
        let connectors = await connectors()
        if sampled { queueMeterValues(connectors, trigger: .meterValuePeriodic, context: .samplePeriodic,
                                      measurands: settings.sampledDataTxUpdatedMeasurands, atUnixMs: now) }
        if let aligned { queueMeterValues(connectors, trigger: .meterValueClock, context: .sampleClock,
                                          measurands: settings.alignedDataMeasurands, atUnixMs: aligned) }
    }

    /// One Updated event per running transaction; clock-aligned values of idle EVSEs go as MeterValues.
    func queueMeterValues(_ connectors: [ConnectorSnapshot], trigger: TransactionEventRequest.TriggerReasonEnumType,
                          context: ReadingContextEnumType, measurands: [String], atUnixMs now: UInt64) {
        var outside: [MeterValuesRequest] = []
        for c in connectors {
            guard let value = MeterValueSampling.meterValue(c, measurands: measurands, context: context, atUnixMs: now) else { continue }
            guard let session = c.session else {
                if context == .sampleClock { outside.append(MeterValuesRequest(evseId: c.id, meterValue: [value])) }
                continue
            }
            let queued = transactions.enqueueUpdated(session: session.id, connectorId: c.id, atUnixMs: now) { seqNo, offline in
                TransactionEventOperation.updated(transactionId: session.id, evseId: c.id, seqNo: seqNo, offline: offline,
                                                  trigger: trigger, chargingState: nil, meterValues: [value],
                                                  numberOfPhasesUsed: MeterValueSampling.phasesUsed(c), atUnixMs: now)
            }
            if queued { outboxKick.yield() }
        }
        // Not transaction-related: not queued on disk; a boundary missed offline is not replayed.
        guard mayInitiate, !outside.isEmpty else { return }
        Task {
            for request in outside {
                do { _ = try await send(request) } catch { logger.info("clock-aligned MeterValues: \(error)") }
            }
        }
    }

    /// A connector's status changed: a running transaction whose charging state it changes gets
    /// an Updated event (ChargingStateChanged).
    func chargingStateMayHaveChanged(connectorId: Int, _ status: ConnectorStatus, atUnixMs at: UInt64) async {
        guard let state = TransactionEventOperation.chargingState(status),
              let c = await connectors().first(where: { $0.id == connectorId }), let session = c.session else { return }
        let previous = metering.chargingStates[session.id] ?? .evConnected
        guard previous != state else { return }
        metering.chargingStates[session.id] = state
        if state == .charging, transactions.energyTransferBegan(session, energyWh: c.energyWh, atUnixMs: at) {
            outboxKick.yield()  // the Started event carries the change
            return
        }
        let queued = transactions.enqueueUpdated(session: session.id, connectorId: connectorId, atUnixMs: at) { seqNo, offline in
            TransactionEventOperation.updated(transactionId: session.id, evseId: connectorId, seqNo: seqNo, offline: offline,
                                              trigger: .chargingStateChanged, chargingState: state, meterValues: nil,
                                              numberOfPhasesUsed: MeterValueSampling.phasesUsed(c), atUnixMs: at)
        }
        if queued { outboxKick.yield() }
    }

    func transactionEnded(_ session: Session) {
        metering.chargingStates[session.id] = nil
    }
}
