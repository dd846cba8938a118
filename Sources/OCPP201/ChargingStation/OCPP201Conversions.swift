import ChargingCore
import OCPP201Messages

/// The translations between the core's terms and 2.0.1's, used by several operations. One EVSE
/// per station connector (the board's connector n is EVSE n), each with one connector (id 1).
enum OCPP201Terms {
    static func idToken(_ token: IdTokenType) -> IdToken {
        IdToken(token.idToken, kind: kind(token.type))
    }

    static func idTokenType(_ token: IdToken) -> IdTokenType {
        IdTokenType(idToken: String(token.value.prefix(36)), type: type(token.kind))
    }

    static func kind(_ type: IdTokenEnumType) -> IdToken.Kind {
        switch type {
        case .central: .central
        case .eMAID: .eMAID
        case .iso14443: .iso14443
        case .iso15693: .iso15693
        case .keyCode: .keyCode
        case .local: .local
        case .macAddress: .macAddress
        case .noAuthorization: .noAuthorization
        }
    }

    static func type(_ kind: IdToken.Kind) -> IdTokenEnumType {
        switch kind {
        case .central: .central
        case .eMAID: .eMAID
        case .iso14443: .iso14443
        case .iso15693: .iso15693
        case .keyCode: .keyCode
        case .local: .local
        case .macAddress: .macAddress
        case .noAuthorization: .noAuthorization
        }
    }

    static func authorizationStatus(_ status: AuthorizationStatusEnumType) -> AuthorizationStatus {
        switch status {
        case .accepted: .accepted
        case .blocked: .blocked
        case .concurrentTx: .concurrentTx
        case .expired: .expired
        case .invalid: .invalid
        case .noCredit: .noCredit
        case .notAllowedTypeEVSE: .notAllowedTypeEVSE
        case .notAtThisLocation: .notAtThisLocation
        case .notAtThisTime: .notAtThisTime
        case .unknown: .unknown
        }
    }

    /// What the CSMS said of a token, for the core and its cache.
    static func authorizationInfo(_ info: IdTokenInfoType) -> AuthorizationInfo {
        AuthorizationInfo(status: authorizationStatus(info.status), parentIdToken: info.groupIdToken.map(idToken),
                          expiresAtUnixMs: info.cacheExpiryDateTime.flatMap(OCPPTimestamp.unixMs))
    }

    /// 2.0.1 folds the preparing, charging, suspended and finishing states into Occupied.
    static func connectorStatus(_ status: ConnectorStatus) -> StatusNotificationRequest.ConnectorStatusEnumType {
        switch status {
        case .available: .available
        case .preparing, .charging, .suspendedEV, .suspendedEVSE, .finishing: .occupied
        case .reserved: .reserved
        case .unavailable: .unavailable
        case .faulted: .faulted
        }
    }

    static func statusInfo(_ reasonCode: String, _ additionalInfo: String? = nil) -> StatusInfoType {
        StatusInfoType(reasonCode: String(reasonCode.prefix(20)), additionalInfo: additionalInfo.map { String($0.prefix(512)) })
    }
}

extension OCPP201Terms {
    /// A 2.0.1 charging profile as the core's (its first schedule; 2.0.1 allows up to three, for
    /// ISO 15118 tariffs, which this station does not speak). nil with the reason when it is
    /// not one the core can apply.
    static func chargingProfile(_ p: ChargingProfileType, connectorId: Int) -> Result<InstalledChargingProfile, ChargingProfileConversionError> {
        guard let s = p.chargingSchedule.first else { return .failure(.init("no charging schedule")) }
        // phaseToUse picks L1, L2 or L3 for one-phase charging. Our phase switch relay only goes
        // between three phases and L1 (SmartChargingCtrlr.ACPhaseSwitchingSupported is false),
        // and the spec allows phaseToUse only with numberPhases 1 on an EVSE that can choose.
        if let period = s.chargingSchedulePeriod.first(where: { $0.phaseToUse != nil }) {
            guard period.numberPhases == 1 else {
                return .failure(.init("phaseToUse is only allowed with numberPhases 1", reasonCode: "InvalidSchedule"))
            }
            return .failure(.init("phaseToUse \(period.phaseToUse ?? 0): this EVSE cannot choose the phase (ACPhaseSwitchingSupported is false); "
                                  + "leave it out and one-phase charging uses L1", reasonCode: "UnsupportedParam"))
        }
        let kind: ChargingProfileKind
        switch p.chargingProfileKind {
        case .absolute: kind = .absolute
        case .relative: kind = .relative
        case .recurring:
            guard let r = p.recurrencyKind else { return .failure(.init("Recurring without recurrencyKind")) }
            kind = .recurring(r == .daily ? .daily : .weekly)
        }
        let purpose: ChargingProfilePurpose
        switch p.chargingProfilePurpose {
        case .chargingStationMaxProfile: purpose = .chargingStationMaxProfile
        case .txDefaultProfile: purpose = .txDefaultProfile
        case .txProfile: purpose = .txProfile
        case .chargingStationExternalConstraints: return .failure(.init("ChargingStationExternalConstraints is set by the station, not the CSMS"))
        }
        func seconds(_ text: String?) -> Int64?? {
            guard let text else { return .some(nil) }
            guard let ms = OCPPTimestamp.unixMs(text) else { return nil }
            return .some(Int64(ms / 1_000))
        }
        guard let validFrom = seconds(p.validFrom), let validTo = seconds(p.validTo), let start = seconds(s.startSchedule) else {
            return .failure(.init("a date of the profile is not one"))
        }
        let schedule = ChargingSchedule(unit: s.chargingRateUnit == .a ? .amps : .watts,
                                        periods: s.chargingSchedulePeriod.map { .init(startPeriod: $0.startPeriod, limit: $0.limit, numberPhases: $0.numberPhases) },
                                        duration: s.duration, startSchedule: start, minChargingRate: s.minChargingRate)
        let profile = ChargingProfile(id: p.id, stackLevel: p.stackLevel, purpose: purpose, kind: kind, validFrom: validFrom,
                                      validTo: validTo, transactionId: p.transactionId, schedule: schedule)
        do { return .success(try InstalledChargingProfile(connectorId: connectorId, profile: profile)) } catch {
            return .failure(.init(error.description))
        }
    }
}

struct ChargingProfileConversionError: Error, CustomStringConvertible {
    var description: String
    /// The statusInfo reasonCode a rejection carries.
    var reasonCode: String
    init(_ d: String, reasonCode: String = "InvalidProfile") {
        description = d
        self.reasonCode = reasonCode
    }
}
