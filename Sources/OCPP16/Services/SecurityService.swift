import Codecs
import OCPP16Messages
import OCPPSecurity
import OCPPTransport
import Storage
import Synchronization

/// The security-whitepaper side of the 1.6 charge point: the SecurityProfile and CpoName keys
/// (persisted in the ConfigStore under `ocpp16.`), the AuthorizationKey (in its own file, never
/// in the ConfigStore: no configuration reader can list it), the installed CSMS and
/// manufacturer roots, the station key and client certificate, and the security events owed
/// to the CSMS.
public struct SecurityService: Sendable {
    public static let securityKeys: Set<String> = ["SecurityProfile", "AuthorizationKey", "CpoName"]

    /// Where certificates and keys live; nil: the PKI messages answer Rejected / Failed.
    public let certificates: InstalledCertificateStore?
    public let stationKeys: StationKeyStore?
    private let store: ConfigStore?
    private let authorizationKeys: AuthorizationKeyStore?
    /// A client certificate chain and key provisioned at install time (station settings), used
    /// for profile 3 until a CertificateSigned installs one in `stationKeys`.
    public var provisionedClientCertificate: (chain: String, key: String)?

    /// The profile in force (the stored one; a raised one becomes stored once it connected).
    public private(set) var profile: OCPPSecurityProfile
    /// The AuthorizationKey's bytes (write-only: never read back over OCPP, never logged).
    public private(set) var authorizationKey: [UInt8]?
    public private(set) var cpoName: String

    /// The security profile to switch to: called after a raise was accepted.
    public var onProfileRaised: (@Sendable (OCPPSecurityProfile) -> Void)?
    /// A new client certificate was installed: reconnect to use it.
    public var onClientCertificateInstalled: (@Sendable () -> Void)?

    public static let disabled = SecurityService(store: nil, certificates: nil, stationKeys: nil, initialProfile: .unsecured)

    /// `initialProfile` applies until the CSMS raised the profile (a stored value wins when higher).
    /// `initialAuthorizationKeyHex` (the provisioned key file) applies until the CSMS set one
    /// (kept in `authorizationKeys`; without that store a key set by the CSMS lasts until the process ends).
    public init(store: ConfigStore?, authorizationKeys: AuthorizationKeyStore? = nil,
                certificates: InstalledCertificateStore?, stationKeys: StationKeyStore?,
                initialProfile: OCPPSecurityProfile, initialAuthorizationKeyHex: String? = nil) {
        self.store = store
        self.authorizationKeys = authorizationKeys
        self.certificates = certificates
        self.stationKeys = stationKeys
        let stored = { (name: String) -> String? in (try? store?.value(for: ConfigurationService.storePrefix + name)) ?? nil }
        var profile = initialProfile
        if let s = stored("SecurityProfile"), let n = Int(s), let p = OCPPSecurityProfile(rawValue: n), p.rawValue > profile.rawValue {
            profile = p
        }
        self.profile = profile
        let hex = ((try? authorizationKeys?.load()) ?? nil) ?? initialAuthorizationKeyHex
        self.authorizationKey = hex.flatMap { try? Self.authorizationKeyBytes($0) }
        self.cpoName = stored("CpoName") ?? ""
    }

    /// The entries GetConfiguration lists (AuthorizationKey is write-only: never listed).
    public var readableKeys: [(name: String, readOnly: Bool, value: String)] {
        [("SecurityProfile", false, String(profile.rawValue)), ("CpoName", false, cpoName)]
    }

    public enum ProfileChange: Sendable, Equatable {
        case raise(from: OCPPSecurityProfile, to: OCPPSecurityProfile)
        case unchanged
    }

    /// ChangeConfiguration of one of `securityKeys`. A raised SecurityProfile is only stored
    /// once it connected (`commitProfile`): answered Accepted, the switch follows.
    public mutating func change(_ name: String, to value: String) -> (ConfigurationService.ChangeResult, ProfileChange) {
        switch name {
        case "SecurityProfile":
            guard let n = Int(value), let p = OCPPSecurityProfile(rawValue: n) else {
                return (.rejected("'\(value)' is not a security profile 0…3"), .unchanged)
            }
            guard p.rawValue >= profile.rawValue else {
                return (.rejected("SecurityProfile may only be raised (now \(profile.rawValue))"), .unchanged)
            }
            if p == profile { return (.accepted, .unchanged) }
            if let problem = missingPrerequisite(for: p) { return (.rejected(problem), .unchanged) }
            return (.accepted, .raise(from: profile, to: p))
        case "AuthorizationKey":
            let bytes: [UInt8]
            do { bytes = try Self.authorizationKeyBytes(value) } catch { return (.rejected(error.description), .unchanged) }
            do { try authorizationKeys?.save(hex: value) } catch {
                return (.rejected("cannot store AuthorizationKey: \(error)"), .unchanged)
            }
            authorizationKey = bytes
            return (.accepted, .unchanged)
        case "CpoName":
            guard value.utf8.count <= 64 else { return (.rejected("CpoName longer than 64 characters"), .unchanged) }
            do { try store?.set(value, for: ConfigurationService.storePrefix + name) } catch {
                return (.rejected("cannot store CpoName: \(error)"), .unchanged)
            }
            cpoName = value
            return (.accepted, .unchanged)
        default:
            return (.notSupported, .unchanged)
        }
    }

    /// What `profile` needs that is not there (nil: it can be tried).
    public func missingPrerequisite(for profile: OCPPSecurityProfile) -> String? {
        switch profile {
        case .unsecured: return nil
        case .basicAuth:
            return authorizationKey == nil ? "security profile 1 needs an AuthorizationKey" : nil
        case .tlsWithBasicAuth:
            if authorizationKey == nil { return "security profile 2 needs an AuthorizationKey" }
            return hasCentralSystemRoot ? nil : "security profile 2 needs a CentralSystemRootCertificate"
        case .tlsWithClientCertificate:
            if !hasCentralSystemRoot { return "security profile 3 needs a CentralSystemRootCertificate" }
            return hasClientCertificate ? nil : "security profile 3 needs a client certificate"
        }
    }

    var hasCentralSystemRoot: Bool {
        ((try? certificates?.certificates(of: .centralSystemRootCertificate)) ?? nil).map { !$0.isEmpty } ?? false
    }

    var hasClientCertificate: Bool { hasStoredClientCertificate || provisionedClientCertificate != nil }

    var hasStoredClientCertificate: Bool {
        guard let stationKeys, stationKeys.hasKey(.active) else { return false }
        return ((try? stationKeys.loadCertificateChain(.active)) ?? nil).map { !$0.isEmpty } ?? false
    }

    /// The raised profile connected: it is the profile from now on.
    public mutating func commitProfile(_ p: OCPPSecurityProfile) {
        guard p.rawValue > profile.rawValue else { return }
        try? store?.set(String(p.rawValue), for: ConfigurationService.storePrefix + "SecurityProfile")
        profile = p
    }

    /// TLS settings for profiles 2 and 3: the installed CSMS roots, and (3) the active client
    /// certificate and key as files, read again on every connect.
    public func tlsSettings(extraRoots: [String] = []) -> OCPPTLSSettings {
        var roots: [OCPPPEMSource] = extraRoots.map { .file($0) }
        if let installed = try? certificates?.certificates(of: .centralSystemRootCertificate) {
            for c in installed { if let pem = try? c.pem() { roots.append(.bytes(Array(pem.utf8))) } }
        }
        var settings = OCPPTLSSettings(trustedRoots: roots)
        if let stationKeys, hasStoredClientCertificate {
            settings.clientCertificateChain = [.file(stationKeys.certificateChainPath(.active))]
            settings.clientPrivateKey = .file(stationKeys.keyPath(.active))
        } else if let provisioned = provisionedClientCertificate {
            settings.clientCertificateChain = [.file(provisioned.chain)]
            settings.clientPrivateKey = .file(provisioned.key)
        }
        return settings
    }

    /// Where versions up to 0.6 kept the AuthorizationKey: the configuration table, beside keys
    /// every configuration reader lists.
    public static let legacyAuthorizationKeyEntry = ConfigurationService.storePrefix + "AuthorizationKey"

    /// Moves an AuthorizationKey an earlier version stored in `store` into `keys`, once (a
    /// database without one is left alone): written to its file first, then removed from the
    /// database and scrubbed from its files, so a power cut in between loses nothing. The
    /// table's key wins over a file already there: only a version that knows no file (a
    /// downgrade) writes the table, so its key is the newer one. Returns whether a key was there.
    @discardableResult
    public static func moveAuthorizationKey(from store: ConfigStore, to keys: AuthorizationKeyStore) throws -> Bool {
        guard let hex = try store.value(for: legacyAuthorizationKeyEntry) else { return false }
        // A value that is no key was never accepted by ChangeConfiguration; it is dropped all the same.
        if (try? authorizationKeyBytes(hex)) != nil { try keys.save(hex: hex) }
        try store.removeSecret(legacyAuthorizationKeyEntry)
        return true
    }

    public struct AuthorizationKeyError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The 1.6 AuthorizationKey: hex of 16 to 20 bytes (32–40 hex digits).
    public static func authorizationKeyBytes(_ hex: String) throws(AuthorizationKeyError) -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0, (32...40).contains(digits.count) else {
            throw AuthorizationKeyError(description: "AuthorizationKey must be 32 to 40 hex digits (16 to 20 bytes), got \(digits.count) characters")
        }
        guard let bytes = Hex.decode(hex) else {
            throw AuthorizationKeyError(description: "AuthorizationKey is not hex")
        }
        return bytes
    }
}

/// Printed without the AuthorizationKey.
extension SecurityService: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "SecurityService(profile: \(profile.rawValue), authorizationKey: \(authorizationKey == nil ? "none" : "<redacted>"), cpoName: \(cpoName))"
    }
    public var debugDescription: String { description }
}

extension SecurityService {
    /// The security whitepaper: certificates, and ExtendedTriggerMessage (its message goes
    /// after the reply, `afterReply`). SignedUpdateFirmware and GetLog are the firmware's and
    /// the diagnostics' (registered where those services run).
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(InstallCertificateRequest.self) { chargePoint, request in chargePoint.installCertificate(request) }
        registry.register(DeleteCertificateRequest.self) { chargePoint, request in chargePoint.deleteCertificate(request) }
        registry.register(GetInstalledCertificateIdsRequest.self) { chargePoint, request in chargePoint.getInstalledCertificateIds(request) }
        registry.register(CertificateSignedRequest.self) { chargePoint, request in chargePoint.certificateSigned(request) }
        registry.registerAnswering(ExtendedTriggerMessageRequest.self) { chargePoint, request in
            let (response, then) = await chargePoint.extendedTriggerMessage(request)
            return OCPPCallAnswer(.success(response.toJSON()), afterReply: then)
        }
    }
}
