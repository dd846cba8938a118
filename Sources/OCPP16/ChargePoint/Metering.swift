import ChargingCore
import OCPP16Messages
import StationPort

/// MeterValues of the station's own accord: sampled every MeterValueSampleInterval during a
/// transaction (queued with it, StopTxnSampledData kept for its StopTransaction), and clock-aligned
/// at every ClockAlignedDataInterval boundary.
extension OCPP16ChargePoint {
    /// Sleeps until a sample, an aligned boundary or a price trigger may be due (at most a
    /// minute), not a second at a time: an idle charger is not woken every second to look at
    /// the clock. A changed interval, new price triggers or a set clock restart the sleep
    /// (`restartMetering`).
    func sampleMeterValuesForever() async {
        while !Task.isCancelled {
            let seconds = secondsUntilMeteringDue()
            await sleep(.seconds(Int64(seconds)))
            if Task.isCancelled { return }
            await meteringTick(seconds: seconds)
        }
    }

    func secondsUntilMeteringDue() -> Int {
        let now = unixMs()
        return metering.secondsUntilDue(sampleInterval: configuration.int("MeterValueSampleInterval") ?? 0,
                                        alignedInterval: configuration.int("ClockAlignedDataInterval") ?? 0,
                                        unixMs: now,
                                        otherDueInSeconds: pricing.secondsUntilNextTimeTrigger(atUnixSeconds: Int64(now / 1_000)))
    }

    /// Something the sleep was computed from changed: sleep again from now. Nothing to do
    /// before `start()`.
    func restartMetering() {
        guard let running = meteringTask else { return }
        running.cancel()
        meteringTask = Task { await self.sampleMeterValuesForever() }
    }

    /// `seconds` of the metering schedule have passed: the sleep above calls it when something
    /// may be due, tests directly.
    public func meteringTick(seconds: Int = 1) async {
        await pricingTimeTriggers()
        let due = metering.tick(seconds: seconds, sampleInterval: configuration.int("MeterValueSampleInterval") ?? 0,
                                alignedInterval: configuration.int("ClockAlignedDataInterval") ?? 0,
                                unixMs: unixMs())
        guard due.sampled || due.alignedAtUnixMs != nil else { return }
        let connectors = await self.connectors()
        if due.sampled { sampleMeterValues(connectors) }
        if let boundary = due.alignedAtUnixMs { sampleClockAligned(atUnixMs: boundary, connectors) }
    }

    /// MeterValueSampleInterval elapsed: one MeterValues per charging connector, queued with its
    /// transaction, and the StopTxnSampledData kept for its StopTransaction.
    func sampleMeterValues(_ connectors: [ConnectorSnapshot]) {
        let measurands = configuration.measurands("MeterValuesSampledData")
        let forStop = configuration.measurands("StopTxnSampledData")
        let now = unixMs()
        for c in connectors {
            guard let session = c.session else { continue }
            if let value = MeterValuesOperation.meterValue(c, measurands: measurands, context: .samplePeriodic, atUnixMs: now) {
                let request = MeterValuesRequest(connectorId: c.id, transactionId: nil, meterValue: [value])
                if transactions.enqueueMeterValues(request, session: session.id, atUnixMs: now) { outboxKick.yield() }
            }
            if let value = MeterValuesOperation.meterValue(c, measurands: forStop, context: .samplePeriodic, atUnixMs: now) {
                transactions.keepForStop(value, session: session.id, atUnixMs: now)
            }
        }
    }

    /// A ClockAlignedDataInterval boundary: MeterValuesAlignedData of every connector (queued
    /// with the transaction where one runs, sent as is otherwise) and the StopTxnAlignedData of
    /// running transactions. The values carry the boundary's time.
    func sampleClockAligned(atUnixMs boundary: UInt64, _ connectors: [ConnectorSnapshot]) {
        let measurands = configuration.measurands("MeterValuesAlignedData")
        let forStop = configuration.measurands("StopTxnAlignedData")
        var outside: [MeterValuesRequest] = []
        for c in connectors {
            let value = MeterValuesOperation.meterValue(c, measurands: measurands, context: .sampleClock, atUnixMs: boundary)
            if let session = c.session {
                if let value {
                    let request = MeterValuesRequest(connectorId: c.id, transactionId: nil, meterValue: [value])
                    if transactions.enqueueMeterValues(request, session: session.id, atUnixMs: boundary) { outboxKick.yield() }
                }
                if let stop = MeterValuesOperation.meterValue(c, measurands: forStop, context: .sampleClock, atUnixMs: boundary) {
                    transactions.keepForStop(stop, session: session.id, atUnixMs: boundary)
                }
            } else if let value {
                outside.append(MeterValuesRequest(connectorId: c.id, transactionId: nil, meterValue: [value]))
            }
        }
        // Not transaction-related: not queued on disk; a boundary missed offline is not replayed.
        guard mayInitiate, !outside.isEmpty else { return }
        Task {
            for request in outside {
                do { _ = try await send(request) } catch { logger.info("clock-aligned MeterValues: \(error)") }
            }
        }
    }

    /// One sampling round now (tests; the loop does it every MeterValueSampleInterval).
    public func sampleMeterValuesForTesting() async { sampleMeterValues(await connectors()) }
}
