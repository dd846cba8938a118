import ChargingCore
import OCPP16Messages

/// GetCompositeSchedule (CSMS → charge point): what the installed profiles allow on a
/// connector (0 = the station maximum) from now for `duration` seconds. Slots no profile limits
/// carry no period of their own: the composite only lists limits that are in force.
extension OCPP16ChargePoint {
    func getCompositeSchedule(_ request: GetCompositeScheduleRequest) async -> GetCompositeScheduleResponse {
        let connectors = await self.connectors()
        guard request.connectorId >= 0, request.connectorId <= connectors.count, request.duration >= 0 else {
            return GetCompositeScheduleResponse(status: .rejected)
        }
        let unit: ChargingRateUnit = request.chargingRateUnit == .w ? .watts : .amps
        let now = Int64(unixMs() / 1_000)
        let transaction = connectors.first { $0.id == request.connectorId }?.session.map {
            ChargingTransactionContext(transactionId: $0.id, startedAt: Int64($0.startedAtUnixMs / 1_000))
        }
        let composite = smartCharging.calculator.compositeSchedule(
            connectorId: request.connectorId, start: now, duration: request.duration, unit: unit, transaction: transaction)
        // Limits in force only; an unlimited window is answered with no schedule at all.
        var periods: [OCPP16ChargingSchedulePeriod] = []
        var start = 0
        var end = composite.duration
        for p in composite.periods {
            guard let limit = p.limit else {
                // The first unlimited slot after limits ends the answered window.
                if !periods.isEmpty { end = p.startPeriod; break }
                continue
            }
            if periods.isEmpty { start = p.startPeriod }
            periods.append(.init(startPeriod: p.startPeriod - start, limit: limit, numberPhases: p.numberPhases))
        }
        guard !periods.isEmpty else {
            return GetCompositeScheduleResponse(status: .accepted, connectorId: request.connectorId,
                                                scheduleStart: OCPP16Timestamp.string(unixMs: UInt64(now) * 1_000))
        }
        let schedule = OCPP16ChargingSchedule(
            duration: end - start, startSchedule: OCPP16Timestamp.string(unixMs: UInt64(now + Int64(start)) * 1_000),
            chargingRateUnit: unit == .watts ? ChargingRateUnitType.w : .a, chargingSchedulePeriod: periods)
        return GetCompositeScheduleResponse(status: .accepted, connectorId: request.connectorId,
                                            scheduleStart: OCPP16Timestamp.string(unixMs: UInt64(now + Int64(start)) * 1_000),
                                            chargingSchedule: schedule)
    }
}
