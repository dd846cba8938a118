import OCPP201Messages
import OCPPTransport

/// GetChargingProfiles (K09): Accepted, then one ReportChargingProfiles per EVSE with the
/// matching profiles (tbc on all but the last); NoProfiles when none matches. The profiles are
/// all the CSMS's (chargingLimitSource CSO): the station sets no limits of its own through them.
extension OCPP201ChargingStation {
    func getChargingProfiles(_ request: GetChargingProfilesRequest) -> OCPPCallAnswer {
        let criterion = request.chargingProfile
        let matching = smartCharging.entries.filter { e in
            if let evse = request.evseId, e.evseId != evse { return false }
            if let purpose = criterion.chargingProfilePurpose, e.profile.chargingProfilePurpose != purpose { return false }
            if let level = criterion.stackLevel, e.profile.stackLevel != level { return false }
            if let ids = criterion.chargingProfileId, !ids.contains(e.profile.id) { return false }
            if let sources = criterion.chargingLimitSource, !sources.contains(.cso) { return false }
            return true
        }
        guard !matching.isEmpty else {
            return OCPPCallAnswer(.success(GetChargingProfilesResponse(status: .noProfiles).toJSON()))
        }
        let evseIds = Array(Set(matching.map(\.evseId))).sorted()
        let reports = evseIds.enumerated().map { index, evse in
            ReportChargingProfilesRequest(requestId: request.requestId, chargingLimitSource: .cso,
                                          chargingProfile: matching.filter { $0.evseId == evse }.map(\.profile),
                                          tbc: index < evseIds.count - 1 ? true : nil, evseId: evse)
        }
        return OCPPCallAnswer(.success(GetChargingProfilesResponse(status: .accepted).toJSON())) {
            for report in reports {
                do { _ = try await self.send(report) } catch { self.logger.info("ReportChargingProfiles: \(error)") }
            }
        }
    }
}
