import OCPP201Messages
import OCPPJSON
import StationPort

/// Functional block K, "external charging limits" seen from the CSMS: when the station's own
/// energy management (load sharing between its connectors, the grid meter's limits, PV mode)
/// holds a transaction below what the CSMS's profiles allow, NotifyChargingLimit (source EMS)
/// says so; ClearedChargingLimit says when it stops. A change smaller than
/// SmartChargingCtrlr.LimitChangeSignificance (% of the limit last reported) is not reported.
extension OCPP201ChargingStation {
    /// The station's event: the limit it holds `evseId` at now (nil: none).
    func localChargingLimitChanged(evseId: Int, amps: Double?) {
        chargingLimits.current[evseId] = amps
        reportChargingLimits()
    }

    /// Brings the CSMS up to date with every EVSE's limit; also when the connection comes back.
    func reportChargingLimits() {
        guard mayInitiate else { return }
        for evseId in Set(chargingLimits.current.keys).union(chargingLimits.reported.keys).sorted() {
            let now = chargingLimits.current[evseId]
            let heard = chargingLimits.reported[evseId]
            switch (now, heard) {
            case (nil, nil):
                continue
            case (nil, _?):
                chargingLimits.reported[evseId] = nil
                let request = ClearedChargingLimitRequest(chargingLimitSource: .ems, evseId: evseId)
                Task { await self.sendChargingLimit(request, evseId: evseId) }
            case let (amps?, heard):
                guard Self.significant(amps, comparedTo: heard, percent: settings.limitChangeSignificancePercent) else { continue }
                chargingLimits.reported[evseId] = amps
                let request = notifyChargingLimit(evseId: evseId, amps: amps)
                Task { await self.sendChargingLimit(request, evseId: evseId) }
            }
        }
    }

    /// Is `amps` worth a report after `heard` was (nil: nothing reported yet)?
    static func significant(_ amps: Double, comparedTo heard: Double?, percent: Double) -> Bool {
        guard let heard else { return true }
        guard amps != heard else { return false }
        guard heard > 0 else { return true }
        return abs(amps - heard) / heard * 100 >= percent
    }

    func notifyChargingLimit(evseId: Int, amps: Double) -> NotifyChargingLimitRequest {
        var schedule: [ChargingScheduleType]?
        if settings.notifyChargingLimitWithSchedules {
            // The limit from now on, in amperes per phase, until the station reports another.
            schedule = [ChargingScheduleType(id: evseId, startSchedule: OCPPTimestamp.string(unixMs: unixMs()),
                                             chargingRateUnit: .a,
                                             chargingSchedulePeriod: [ChargingSchedulePeriodType(startPeriod: 0, limit: amps)])]
        }
        return NotifyChargingLimitRequest(chargingSchedule: schedule, evseId: evseId,
                                          chargingLimit: .init(chargingLimitSource: .ems, isGridCritical: false))
    }

    private func sendChargingLimit<R: OCPP201RequestPayload>(_ request: R, evseId: Int) async {
        do {
            _ = try await send(request)
        } catch {
            logger.info("\(R.action.rawValue) for EVSE \(evseId): \(error)")
            // Not heard: said again when the connection is back (a limit the CSMS may still
            // believe in is cleared then; a new one is notified).
            chargingLimits.reported[evseId] = request is ClearedChargingLimitRequest ? 0 : nil
        }
    }
}

/// What the station holds each EVSE at, and what the CSMS last heard (keys: EVSE ids).
struct ChargingLimitReports: Sendable {
    var current: [Int: Double] = [:]
    var reported: [Int: Double] = [:]
}
