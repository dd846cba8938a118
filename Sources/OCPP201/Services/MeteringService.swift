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
    /// The longest the metering sleeps, whatever is due: a wall clock that was set meanwhile is
    /// noticed within this.
    static let longestMeteringSleepSeconds = 60

    /// Sleeps until a sample or an aligned boundary may be due (at most a minute), not a second
    /// at a time: an idle charger is not woken every second to look at the clock. A changed
    /// interval or a set clock restarts the sleep (`restartMetering`).
    func meterValuesForever() async {
        while !Task.isCancelled {
            let seconds = secondsUntilMeteringDue(atUnixMs: unixMs())
            await sleep(.seconds(Int64(seconds)))
            if Task.isCancelled { return }
            await meteringTick(seconds: seconds)
        }
    }

    /// Whole seconds from `now` until a sample or an aligned boundary may be due (1…60).
    func secondsUntilMeteringDue(atUnixMs now: UInt64) -> Int {
        var wait = Self.longestMeteringSleepSeconds
        let sampleInterval = settings.sampledDataTxUpdatedInterval
        if sampleInterval > 0 { wait = min(wait, sampleInterval - metering.sinceSample) }
        if settings.alignedDataInterval > 0 {
            // The first tick only learns where the clock is: it must come before the boundary.
            guard metering.lastAlignedBoundary != nil else { return 1 }
            let period = UInt64(settings.alignedDataInterval) * 1_000
            let next = (now / period + 1) * period
            wait = min(wait, Int((next - now + 999) / 1_000))
        }
        return max(1, wait)
    }

    /// Something the sleep was computed from changed: sleep again from now. Nothing to do
    /// before `start()`.
    func restartMetering() {
        guard let running = meteringTask else { return }
        running.cancel()
        meteringTask = Task { await self.meterValuesForever() }
    }

    /// `seconds` of the metering schedule have passed: the sleep above calls it when something
    /// may be due, tests directly.
    public func meteringTick(seconds: Int = 1) async {
        let now = unixMs()
        var sampled = false
        metering.sinceSample += max(1, seconds)
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
        // TxStopPoint EnergyTransfer: the EV stopping its energy transfer ends the transaction
        // (E06.FR.07). Only the EV's stop: a station that withholds energy (a profile at 0 A, the
        // load balancer) suspends the transaction, it does not end it.
        if previous == .charging, state == .suspendedEV, settings.txStopPoint.contains("EnergyTransfer") {
            logger.notice("EVSE \(connectorId): the EV stopped the energy transfer; TxStopPoint EnergyTransfer ends \(session.id)")
            _ = await station.requestAccepted(.stopSession(connectorId: connectorId, sessionId: session.id, reason: .stoppedByEV))
        }
    }

    func transactionEnded(_ session: Session) {
        metering.chargingStates[session.id] = nil
    }
}
