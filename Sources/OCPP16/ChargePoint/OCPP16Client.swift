import StationPort
import SmallFiles
import HAL
import Logging
import NIOCore
import NIOPosix
import OCPPJSON
import OCPPSecurity
import OCPPTransport
import Storage
import Locking
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How the station secures its CSMS connection (security whitepaper), from the station's
/// settings: the profile to start with, the AuthorizationKey (hex), CSMS root certificates
/// to install, a provisioned client certificate and key, and where the PKI lives.
public struct OCPP16SecuritySetup: Sendable {
    public var profile: OCPPSecurityProfile
    public var authorizationKeyHex: String?
    /// PEM files installed as CentralSystemRootCertificate at start (idempotent).
    public var centralSystemRootFiles: [String]
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    /// `<data-dir>`: installed roots under `certificates/`, the station key under `pki/`, the
    /// AuthorizationKey the CSMS set in `authorization-key`.
    public var dataDirectory: String

    public init(profile: OCPPSecurityProfile, authorizationKeyHex: String? = nil, centralSystemRootFiles: [String] = [],
                clientCertificateFile: String? = nil, clientKeyFile: String? = nil, dataDirectory: String) {
        self.profile = profile
        self.authorizationKeyHex = authorizationKeyHex
        self.centralSystemRootFiles = centralSystemRootFiles
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.dataDirectory = dataDirectory
    }

    /// The same from the daemon's options: `profileNumber` 0…3.
    public init(profileNumber: Int, authorizationKeyHex: String?, centralSystemRootFiles: [String],
                clientCertificateFile: String?, clientKeyFile: String?, dataDirectory: String) throws(OCPPTransportError) {
        guard let profile = OCPPSecurityProfile(rawValue: profileNumber) else {
            throw .invalidConfiguration("security profile \(profileNumber) is not 0…3")
        }
        self.init(profile: profile, authorizationKeyHex: authorizationKeyHex, centralSystemRootFiles: centralSystemRootFiles,
                  clientCertificateFile: clientCertificateFile, clientKeyFile: clientKeyFile, dataDirectory: dataDirectory)
    }

    /// The installed roots, the station key store, the stored keys: the charge point's
    /// SecurityService. An AuthorizationKey an earlier version kept in `store` moves to its file.
    public func makeService(store: ConfigStore?, unixMs: UInt64) throws -> SecurityService {
        let certificates = try InstalledCertificateStore(directory: dataDirectory + "/certificates")
        let keys = try StationKeyStore(directory: dataDirectory + "/pki")
        let authorizationKeys = try AuthorizationKeyStore(dataDirectory: dataDirectory)
        if let store { try SecurityService.moveAuthorizationKey(from: store, to: authorizationKeys) }
        for file in centralSystemRootFiles {
            guard let bytes = SmallFile.text(file) else { throw OCPPTransportError.invalidCertificate("cannot read \(file)") }
            for pem in Self.splitPEM(bytes) {
                try certificates.install(pem: pem, as: .centralSystemRootCertificate, at: Int64(unixMs / 1000))
            }
        }
        if let hex = authorizationKeyHex { _ = try SecurityService.authorizationKeyBytes(hex) }
        var service = SecurityService(store: store, authorizationKeys: authorizationKeys, certificates: certificates, stationKeys: keys,
                                      initialProfile: profile, initialAuthorizationKeyHex: authorizationKeyHex)
        if let c = clientCertificateFile, let k = clientKeyFile { service.provisionedClientCertificate = (c, k) }
        return service
    }

    /// The move `makeService` makes, for a station that runs without a CSMS: the key an earlier
    /// version kept in the database leaves it all the same.
    public static func moveStoredAuthorizationKey(from store: ConfigStore, dataDirectory: String) throws {
        try SecurityService.moveAuthorizationKey(from: store, to: AuthorizationKeyStore(dataDirectory: dataDirectory))
    }

    static func splitPEM(_ text: String) -> [String] {
        var out: [String] = []
        var current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-----BEGIN CERTIFICATE") { current = [] }
            current.append(line)
            if line.hasPrefix("-----END CERTIFICATE") { out.append(current.joined(separator: "\n") + "\n"); current = [] }
        }
        return out
    }
}

/// Printed without the AuthorizationKey.
extension OCPP16SecuritySetup: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "OCPP16SecuritySetup(profile: \(profile.rawValue), authorizationKey: \(authorizationKeyHex == nil ? "none" : "<redacted>"), "
            + "centralSystemRootFiles: \(centralSystemRootFiles), clientCertificateFile: \(clientCertificateFile ?? "none"), "
            + "dataDirectory: \(dataDirectory))"
    }
    public var debugDescription: String { description }
}

/// A charge point on a live connection: WebSocket (subprotocol ocpp1.6, security profile 0–3),
/// reconnecting forever, the 1.6 RPC dialect, and the `OCPP16ChargePoint` on top. A raised
/// SecurityProfile is tried on a new connection and given up (back to the previous one) when
/// it fails to connect three times in a row.
///
/// `subprotocols` is what is offered: `["ocpp1.6"]`, or both versions when the daemon lets the
/// CSMS choose ("auto"). A CSMS that picks another one gets nothing spoken to it on that
/// connection: `otherVersionSelected` is told, and the daemon restarts with that version's adapter.
public final class OCPP16Client: Sendable {
    public let chargePoint: OCPP16ChargePoint
    private let connection: OCPPConnection
    private let rpc: OCPPRPC
    private let backendURL: String
    private let identity: String
    private let pingInterval: PingIntervalSetting
    private let logger: Logger
    private let unixMs: @Sendable () -> UInt64
    private let profileState: Mutex<ProfileState>
    private let frameLog: OCPPFrameLog?
    private let subprotocols: [String]
    private let otherVersionSelected: @Sendable (String) -> Void

    struct ProfileState: Sendable {
        var current: OCPPSecurityProfile
        var trying: OCPPSecurityProfile?
        var failures = 0
        /// Security events already reported for the current run of failures.
        var reported: Set<String> = []
    }

    static let attemptsBeforeFallback = 3

    public init(backendURL: String, identity: String, chargePointIdentity: OCPP16ChargePoint.Identity,
                station: any StationPort, storage: StationStorage, numberOfConnectors: Int,
                unixMs: @escaping @Sendable () -> UInt64, security: OCPP16SecuritySetup? = nil,
                frameLog: OCPPFrameLog? = nil, files: OCPP16FileServices? = nil,
                subprotocols: [String] = [OCPPRPCDialect.ocpp16.subprotocol],
                otherVersionSelected: @escaping @Sendable (String) -> Void = { _ in },
                logger: Logger = Logger(label: "ocpp16")) throws {
        self.frameLog = frameLog
        self.subprotocols = subprotocols
        self.otherVersionSelected = otherVersionSelected
        let group = MultiThreadedEventLoopGroup.singleton
        let keys = ConfigurationService(store: storage.config, numberOfConnectors: numberOfConnectors)
        let ping = PingIntervalSetting(seconds: keys.int("WebSocketPingInterval") ?? 60)
        let service = try security?.makeService(store: storage.config, unixMs: unixMs())
            ?? SecurityService(store: storage.config, certificates: nil, stationKeys: nil, initialProfile: .unsecured)
        let client = try Self.connector(profile: service.profile, service: service, backendURL: backendURL,
                                        identity: identity, pingInterval: ping, subprotocols: subprotocols, group: group)
        let target = ChargePointBox()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: group.next(), immediately: { action, payload in
            target.value.locked({ $0 })?.answerImmediately(action: action, payload: payload)
        }, answering: { action, payload in
            guard let chargePoint = target.value.locked({ $0 }) else {
                return OCPPCallAnswer(.failure(OCPPCallError(.internalError, "charge point not ready")))
            }
            return await chargePoint.answer(action: action, payload: payload)
        })
        let chargePoint = OCPP16ChargePoint(identity: chargePointIdentity, sender: rpc, station: station,
                                            storage: storage, numberOfConnectors: numberOfConnectors,
                                            unixMs: unixMs, files: files, pingInterval: ping, logger: logger)
        target.value.locked { $0 = chargePoint }
        self.rpc = rpc
        self.chargePoint = chargePoint
        self.backendURL = backendURL
        self.identity = identity
        self.pingInterval = ping
        self.logger = logger
        self.unixMs = unixMs
        self.profileState = Mutex(ProfileState(current: service.profile))
        self.connection = OCPPConnection(connector: client, backoff: ReconnectBackoff(
            minimum: .seconds(Int64(1)), maximum: .seconds(Int64(30)), doublings: 4, randomRange: .seconds(Int64(1))),
            timerLoop: group.next())
        pendingService.locked { $0 = service }
    }

    private let pendingService = Mutex<SecurityService?>(nil)

    /// The WebSocket connector for `profile`: ws:// for 0 and 1, wss:// for 2 and 3.
    static func connector(profile: OCPPSecurityProfile, service: SecurityService, backendURL: String, identity: String,
                          pingInterval: PingIntervalSetting, subprotocols: [String],
                          group: any EventLoopGroup) throws -> OCPPWebSocketClient {
        let url = Self.url(backendURL, for: profile)
        let configuration = try OCPPWebSocketConfiguration.forSecurityProfile(
            profile, backendURL: url, identity: identity, subprotocols: subprotocols,
            basicAuthPassword: profile == .basicAuth || profile == .tlsWithBasicAuth ? service.authorizationKey : nil,
            tls: profile.rawValue >= 2 ? service.tlsSettings() : nil,
            pingInterval: pingInterval.interval)
        return try OCPPWebSocketClient(configuration: configuration, group: group, livePingInterval: pingInterval)
    }

    /// The CSMS URL with the scheme the profile needs.
    static func url(_ url: String, for profile: OCPPSecurityProfile) -> String {
        if profile.rawValue >= 2, url.hasPrefix("ws://") { return "wss://" + url.dropFirst(5) }
        if profile.rawValue < 2, url.hasPrefix("wss://") { return "ws://" + url.dropFirst(6) }
        return url
    }

    /// Connects (and keeps reconnecting) and starts the charge point's loops.
    public func start() async {
        var service = pendingService.locked { s -> SecurityService? in
            let taken = s
            s = nil
            return taken
        } ?? .disabled
        service.onProfileRaised = { [weak self] profile in self?.switchProfile(to: profile) }
        service.onClientCertificateInstalled = { [weak self] in self?.reconnectWithCurrentProfile() }
        await chargePoint.useSecurity(service)
        chargePoint.recordSecurityEvent("StartupOfTheDevice", atUnixMs: unixMs())
        await chargePoint.start()
        let chargePoint = chargePoint
        let otherVersionSelected = otherVersionSelected
        connection.start(rpc: rpc, frameLog: frameLog) { [weak self] event in
            switch event {
            case .connected(let subprotocol):
                guard subprotocol == OCPPRPCDialect.ocpp16.subprotocol else {
                    otherVersionSelected(subprotocol)
                    return
                }
                self?.connected()
                chargePoint.connectionUp()
            case .disconnected(let reason):
                self?.disconnected(reason)
                chargePoint.connectionDown()
            case .message, .reconnectScheduled: break
            }
        }
    }

    public func stop() async {
        await chargePoint.stop()
        await connection.stop()
        rpc.shutDown()
    }

    private func connected() {
        let raised = profileState.locked { s -> OCPPSecurityProfile? in
            s.failures = 0
            s.reported = []
            guard let trying = s.trying else { return nil }
            s.current = trying
            s.trying = nil
            return trying
        }
        if let raised {
            logger.notice("connected with security profile \(raised.rawValue)")
            let chargePoint = chargePoint
            Task { await chargePoint.securityProfileConnected(raised) }
        }
    }

    /// Connection failures the CSMS should hear about (once per run of failures).
    private func disconnected(_ reason: OCPPDisconnectReason) {
        guard case .connectFailed(let error) = reason else { return }
        connectFailed()
        let event: String?
        switch error {
        case .tlsFailed: event = "InvalidCentralSystemCertificate"
        case .upgradeRejected(let status, _) where status == 401 || status == 403: event = "FailedToAuthenticateAtCentralSystem"
        default: event = nil
        }
        guard let event else { return }
        let first = profileState.locked { $0.reported.insert(event).inserted }
        if first { chargePoint.recordSecurityEvent(event, atUnixMs: unixMs(), techInfo: String(String(describing: error).prefix(255))) }
    }

    private func connectFailed() {
        let fallback = profileState.locked { s -> OCPPSecurityProfile? in
            guard s.trying != nil else { return nil }
            s.failures += 1
            guard s.failures >= Self.attemptsBeforeFallback else { return nil }
            s.trying = nil
            s.failures = 0
            return s.current
        }
        guard let fallback else { return }
        logger.warning("the raised security profile did not connect; back to profile \(fallback.rawValue)")
        useProfile(fallback, reconnectNow: false)
    }

    private func switchProfile(to profile: OCPPSecurityProfile) {
        profileState.locked { s in
            s.trying = profile
            s.failures = 0
        }
        useProfile(profile, reconnectNow: true)
    }

    private func reconnectWithCurrentProfile() {
        let profile = profileState.locked { $0.trying ?? $0.current }
        useProfile(profile, reconnectNow: true)
    }

    private func useProfile(_ profile: OCPPSecurityProfile, reconnectNow: Bool) {
        let chargePoint = chargePoint, backendURL = backendURL, identity = identity, ping = pingInterval
        let connection = connection, logger = logger, subprotocols = subprotocols
        Task {
            let service = await chargePoint.securityServiceSnapshot
            do {
                let connector = try Self.connector(profile: profile, service: service, backendURL: backendURL,
                                                   identity: identity, pingInterval: ping, subprotocols: subprotocols,
                                                   group: MultiThreadedEventLoopGroup.singleton)
                connection.replaceConnector(connector, reconnectNow: reconnectNow)
            } catch {
                // Cannot even be configured: stay with the connection we have.
                logger.error("security profile \(profile.rawValue) not usable: \(error)")
                self.profileState.locked { $0.trying = nil; $0.failures = 0 }
            }
        }
    }
}

extension OCPP16ChargePoint {
    var securityServiceSnapshot: SecurityService { security }
}

/// The RPC handler is made before the charge point it calls.
private final class ChargePointBox: Sendable {
    let value = Mutex<OCPP16ChargePoint?>(nil)
}
