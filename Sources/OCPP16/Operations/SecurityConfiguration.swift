import OCPP16Messages
import OCPPTransport

/// ChangeConfiguration of SecurityProfile / AuthorizationKey / CpoName (security whitepaper).
/// The AuthorizationKey value is never logged.
extension OCPP16ChargePoint {
    /// Installs the security side (before `start()`); the client sets its reconnect hooks.
    public func useSecurity(_ service: SecurityService) { security = service }

    public var securityProfile: OCPPSecurityProfile { security.profile }

    func changeSecurityKey(_ request: ChangeConfigurationRequest) -> ChangeConfigurationResponse {
        let (result, profileChange) = security.change(request.key, to: request.value)
        switch result {
        case .accepted, .rebootRequired:
            logger.notice("configuration: \(request.key) changed")
            if request.key != "SecurityProfile" {
                recordSecurityEvent("ReconfigurationOfSecurityParameters", atUnixMs: unixMs(), techInfo: request.key)
                kickSecurityEvents()
            }
            if case let .raise(from, to) = profileChange, let raise = security.onProfileRaised {
                logger.notice("SecurityProfile \(from.rawValue) → \(to.rawValue): reconnecting")
                // After the answer has gone out.
                Task { await self.sleep(.seconds(Int64(1))); raise(to) }
            }
            return ChangeConfigurationResponse(status: .accepted)
        case .rejected(let why):
            logger.notice("configuration: \(request.key) not changed: \(why)")
            return ChangeConfigurationResponse(status: .rejected)
        case .notSupported:
            return ChangeConfigurationResponse(status: .notSupported)
        }
    }

    /// The raised profile connected: stored, and reported as a security event.
    public func securityProfileConnected(_ profile: OCPPSecurityProfile) {
        guard profile.rawValue > security.profile.rawValue else { return }
        security.commitProfile(profile)
        recordSecurityEvent("ReconfigurationOfSecurityParameters", atUnixMs: unixMs(), techInfo: "SecurityProfile \(profile.rawValue)")
        kickSecurityEvents()
    }
}
