import ChargingCore
import OCPP201Messages
import OCPPJSON

/// GetCompositeSchedule (K08): what the installed profiles allow on an EVSE (0: the station)
/// from now for `duration` seconds. Only limits in force are listed: an unlimited window is
/// answered Accepted without a schedule.
extension OCPP201ChargingStation {
    func getCompositeSchedule(_ request: GetCompositeScheduleRequest) async -> GetCompositeScheduleResponse {
        let connectors = await connectors()
        guard request.evseId == 0 || connectors.contains(where: { $0.id == request.evseId }), request.duration >= 0 else {
            return GetCompositeScheduleResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("UnknownEvse", "no EVSE \(request.evseId)"))
        }
        let unit: ChargingRateUnit = request.chargingRateUnit == .w ? .watts : .amps
        let now = Int64(unixMs() / 1_000)
        let transaction = connectors.first { $0.id == request.evseId }?.session.map {
            ChargingTransactionContext(transactionId: $0.id, startedAt: Int64($0.startedAtUnixMs / 1_000))
        }
        let composite = smartCharging.calculator.compositeSchedule(connectorId: request.evseId, start: now,
                                                                   duration: request.duration, unit: unit, transaction: transaction)
        var periods: [ChargingSchedulePeriodType] = []
        var start = 0
        var end = composite.duration
        for p in composite.periods {
            guard let limit = p.limit else {
                if !periods.isEmpty { end = p.startPeriod; break }
                continue
            }
            if periods.isEmpty { start = p.startPeriod }
            periods.append(ChargingSchedulePeriodType(startPeriod: p.startPeriod - start, limit: limit, numberPhases: p.numberPhases))
        }
        guard !periods.isEmpty else { return GetCompositeScheduleResponse(status: .accepted) }
        return GetCompositeScheduleResponse(status: .accepted, schedule: .init(
            chargingSchedulePeriod: periods, evseId: request.evseId, duration: end - start,
            scheduleStart: OCPPTimestamp.string(unixMs: UInt64(now + Int64(start)) * 1_000),
            chargingRateUnit: unit == .watts ? .w : .a))
    }
}
