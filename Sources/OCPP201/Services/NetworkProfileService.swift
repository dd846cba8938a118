import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPSecurity
import OCPPTransport
import Storage

/// One way to reach the CSMS: a configuration slot's network profile, or the station file's
/// backend standing in for slot 1 until the CSMS sets that slot.
public struct OCPP201Endpoint: Sendable, Hashable {
    public var slot: Int
    /// Without the station identity (appended when connecting).
    public var url: String
    public var securityProfile: OCPPSecurityProfile
    public var messageTimeout: Int

    public init(slot: Int, url: String, securityProfile: OCPPSecurityProfile, messageTimeout: Int = 30) {
        self.slot = slot
        self.url = url
        self.securityProfile = securityProfile
        self.messageTimeout = messageTimeout
    }
}

/// The network profiles of SetNetworkProfile (B09), one per configuration slot (0–9, the
/// range of OCPPCommCtrlr.NetworkConfigurationPriority's items), persisted in the station's
/// configuration table as the profile's JSON. The station file's backend is slot 1 unless the
/// CSMS stored another profile there, so a station that never got a SetNetworkProfile
/// connects exactly as configured.
public struct NetworkProfileStore: Sendable {
    public static let slots = 0...9
    static let prefix = "ocpp201.networkProfile."
    let store: ConfigStore

    public init(store: ConfigStore) { self.store = store }

    public func profile(slot: Int) -> SetNetworkProfileRequest.NetworkConnectionProfileType? {
        guard let text = (try? store.value(for: Self.prefix + String(slot))) ?? nil,
              let json = try? JSONParser.parse(text) else { return nil }
        return try? SetNetworkProfileRequest.NetworkConnectionProfileType(json: json)
    }

    public func save(_ profile: SetNetworkProfileRequest.NetworkConnectionProfileType, slot: Int) throws {
        try store.set(profile.toJSON().description, for: Self.prefix + String(slot))
    }

    /// A slot the station can connect with: a stored profile, or slot 1 (the station file's).
    public func holdsProfile(slot: Int) -> Bool { slot == 1 || profile(slot: slot) != nil }

    /// The endpoints to try, in `priority` order (NetworkConfigurationPriority); slots without
    /// a profile, or with a security profile below `minimumSecurityProfile` (one the station was
    /// raised to: never connect lower again), are skipped; with none left the station file's
    /// backend is the only one.
    public func endpoints(priority: [Int], provisioned: OCPP201Endpoint, minimumSecurityProfile: Int = 0) -> [OCPP201Endpoint] {
        let usable = allEndpoints(priority: priority, provisioned: provisioned)
            .filter { $0.securityProfile.rawValue >= minimumSecurityProfile }
        return usable.isEmpty ? [provisioned] : usable
    }

    private func allEndpoints(priority: [Int], provisioned: OCPP201Endpoint) -> [OCPP201Endpoint] {
        var out: [OCPP201Endpoint] = []
        for slot in priority where !out.contains(where: { $0.slot == slot }) {
            if let p = profile(slot: slot), let security = OCPPSecurityProfile(rawValue: p.securityProfile) {
                out.append(OCPP201Endpoint(slot: slot, url: p.ocppCsmsUrl, securityProfile: security, messageTimeout: p.messageTimeout))
            } else if slot == 1 {
                out.append(OCPP201Endpoint(slot: 1, url: provisioned.url, securityProfile: provisioned.securityProfile,
                                           messageTimeout: provisioned.messageTimeout))
            }
        }
        return out.isEmpty ? [provisioned] : out
    }
}

/// What the connection's owner does for the station: reconnect (a new password or station
/// certificate is used at once).
struct ConnectionHooks: Sendable {
    var reconnect: (@Sendable () -> Void)?
}

typealias NetworkConnectionProfileType = SetNetworkProfileRequest.NetworkConnectionProfileType

/// SetNetworkProfile (B09) and the slots' rules: a profile is checked whole (OCPP 2.0 over
/// JSON, a ws:// or wss:// URL fitting its security profile, a profile no lower than the one in
/// use, what that profile needs already on the station) and stored, or Rejected with the
/// reason and nothing stored. It is used at the next (re)connection that reaches its slot in
/// NetworkConfigurationPriority order; the connection falls back to the next slot after
/// NetworkProfileConnectionAttempts failed attempts (`OCPP201Client`).
enum NetworkProfileService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(SetNetworkProfileRequest.self) { station, request in station.setNetworkProfile(request) }
    }
}

extension OCPP201ChargingStation {
    /// Why `profile` cannot be stored (nil: it can).
    func networkProfileProblem(_ p: NetworkConnectionProfileType, slot: Int) -> (reason: String, detail: String)? {
        guard NetworkProfileStore.slots.contains(slot) else { return ("InvalidSlot", "configuration slots are 0 to 9") }
        guard p.ocppVersion == .ocpp20 else { return ("UnsupportedVersion", "this station speaks OCPP 2.0.1 here, not \(p.ocppVersion.rawValue)") }
        guard p.ocppTransport == .json else { return ("UnsupportedTransport", "only JSON (OCPP-J) is spoken") }
        guard let security = OCPPSecurityProfile(rawValue: p.securityProfile) else {
            return ("InvalidProfile", "security profile \(p.securityProfile) is not 0 to 3")
        }
        guard p.securityProfile >= securityProfile else {
            return ("LowerSecurity", "security profile \(p.securityProfile) is lower than the one in use (\(securityProfile))")
        }
        let endpoint: OCPPEndpoint
        do { endpoint = try OCPPEndpoint(backendURL: p.ocppCsmsUrl, identity: "station") } catch {
            return ("InvalidURL", String(describing: error))
        }
        guard endpoint.isSecure == (security.rawValue >= 2) else {
            return ("InvalidURL", "security profile \(p.securityProfile) needs a \(security.rawValue >= 2 ? "wss://" : "ws://") URL")
        }
        guard p.messageTimeout > 0 else { return ("InvalidValue", "messageTimeout must be positive") }
        return missingPrerequisite(for: security).map { ("MissingPrerequisite", $0) }
    }

    /// What a security profile needs that the station does not have (nil: it can be tried).
    func missingPrerequisite(for profile: OCPPSecurityProfile) -> String? {
        let hasPassword = securityProfile == 1 || securityProfile == 2 || ((try? pki?.authorizationKeys.load()) ?? nil) != nil
        let hasRoot = ((try? pki?.certificates.certificates(of: .centralSystemRootCertificate)) ?? nil).map { !$0.isEmpty } ?? false
        let hasCertificate = ((try? pki?.stationKeys.loadCertificateChain(.active)) ?? nil).map { !$0.isEmpty } ?? false
        switch profile {
        case .unsecured: return nil
        case .basicAuth: return hasPassword ? nil : "security profile 1 needs a BasicAuthPassword"
        case .tlsWithBasicAuth:
            if !hasPassword { return "security profile 2 needs a BasicAuthPassword" }
            return hasRoot ? nil : "security profile 2 needs a CSMSRootCertificate"
        case .tlsWithClientCertificate:
            if !hasRoot { return "security profile 3 needs a CSMSRootCertificate" }
            // A station certificate provisioned with the station file counts: the profile in use is 3.
            return hasCertificate || securityProfile == 3 ? nil : "security profile 3 needs a ChargingStationCertificate"
        }
    }

    func setNetworkProfile(_ request: SetNetworkProfileRequest) -> SetNetworkProfileResponse {
        if let problem = networkProfileProblem(request.connectionData, slot: request.configurationSlot) {
            logger.notice("SetNetworkProfile slot \(request.configurationSlot) rejected: \(problem.detail)")
            return SetNetworkProfileResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo(problem.reason, problem.detail))
        }
        do {
            try networkProfiles.save(request.connectionData, slot: request.configurationSlot)
        } catch {
            logger.error("SetNetworkProfile: cannot store slot \(request.configurationSlot): \(error)")
            return SetNetworkProfileResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("InternalError", "\(error)"))
        }
        logger.notice("SetNetworkProfile: slot \(request.configurationSlot) → \(request.connectionData.ocppCsmsUrl) (security profile \(request.connectionData.securityProfile))")
        return SetNetworkProfileResponse(status: .accepted)
    }

    /// The connection came up on `endpoint`: OCPPCommCtrlr.ActiveNetworkProfile names its slot,
    /// and a higher security profile is the one in force from now on (SecurityCtrlr.SecurityProfile,
    /// kept across restarts; never lowered).
    public func connected(on endpoint: OCPP201Endpoint) {
        deviceModel?.setActual(.activeNetworkProfile, String(endpoint.slot))
        guard endpoint.securityProfile.rawValue > securityProfile else { return }
        let before = securityProfile
        securityProfile = endpoint.securityProfile.rawValue
        deviceModel?.setActual(.securityProfile, String(securityProfile))
        logger.notice("security profile \(before) → \(securityProfile)")
    }

    /// The connection's owner registers its hooks (before `start()`).
    public func useConnection(reconnect: @escaping @Sendable () -> Void) {
        connectionHooks.reconnect = reconnect
    }
}
