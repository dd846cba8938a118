import FirmwareUpdate
import HAL
import LogUpload
import Logging
import NIOCore
import NIOPosix
import OCPP201DeviceModel
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization

/// A charging station on a live connection: WebSocket (subprotocol ocpp2.0.1, security profile
/// 0–3: Basic auth with the BasicAuthPassword for 1 and 2, TLS for 2 and 3), reconnecting
/// forever, the 2.0.1 RPC dialect (its CALLERROR spellings), and the `OCPP201ChargingStation`
/// on top.
///
/// Where it connects: the network profiles in OCPPCommCtrlr.NetworkConfigurationPriority
/// order (SetNetworkProfile's slots; the station file's backend is slot 1 until the CSMS sets
/// it), read again at every start. After NetworkProfileConnectionAttempts failed attempts in a
/// row on one slot it moves on to the next (B10: a new priority takes effect at the next boot).
/// The credentials of each attempt are fetched then (`credentials`), so a new BasicAuthPassword
/// or station certificate is used on the next connection.
///
/// `subprotocols` is what is offered: `["ocpp2.0.1"]`, or both versions when the daemon lets
/// the CSMS choose ("auto"). A CSMS that picks another one than 2.0.1 gets nothing spoken to it
/// on that connection: `otherVersionSelected` is told, and the daemon restarts with that
/// version's adapter.
public final class OCPP201Client: Sendable {
    /// The Basic-auth password and TLS settings to connect with a security profile.
    public typealias Credentials = @Sendable (OCPPSecurityProfile) throws -> (password: [UInt8]?, tls: OCPPTLSSettings?)

    public let chargingStation: OCPP201ChargingStation
    private let connection: OCPPConnection
    private let rpc: OCPPRPC
    private let frameLog: OCPPFrameLog?
    private let otherVersionSelected: @Sendable (String) -> Void
    private let unixMs: @Sendable () -> UInt64
    private let identity: String
    private let subprotocols: [String]
    private let credentials: Credentials
    private let logger: Logger
    /// The endpoints in priority order, the one in use, and the failures on it so far.
    private let plan: Mutex<ConnectionPlan>
    private let attemptsPerEndpoint: Int
    /// Security events already raised for the current run of connection failures.
    private let connectFailuresReported = ReportedFailures()

    struct ConnectionPlan: Sendable {
        var endpoints: [OCPP201Endpoint]
        var index = 0
        var failures = 0
        var current: OCPP201Endpoint { endpoints[index] }
    }

    /// `backendURL` and `securityProfile`: the station file's backend (slot 1 unless the CSMS set
    /// it). Without `credentials`, `basicAuthPassword` (a password the CSMS set, kept in the
    /// PKI's authorization key file, wins) and `tls` serve every slot.
    public init(backendURL: String, identity: String, stationIdentity: OCPP201ChargingStation.Identity,
                station: any StationPort, storage: StationStorage, settings: OCPP201Settings = OCPP201Settings(),
                unixMs: @escaping @Sendable () -> UInt64, securityProfile: OCPPSecurityProfile = .unsecured,
                basicAuthPassword: [UInt8]? = nil, tls: OCPPTLSSettings? = nil, credentials: Credentials? = nil,
                pki: OCPP201PKI? = nil, firmware: FirmwareUpdateSettings? = nil, uploads: UploadSettings? = nil, subprotocols: [String] = [OCPPRPCDialect.ocpp201.subprotocol],
                external: OCPP201OperationRegistry = OCPP201OperationRegistry(), deviceModel: DeviceModel? = nil,
                frameLog: OCPPFrameLog? = nil, otherVersionSelected: @escaping @Sendable (String) -> Void = { _ in },
                logger: Logger = Logger(label: "ocpp201")) throws {
        let settings = deviceModel.map { OCPP201Settings(variables: $0.variables, base: settings) } ?? settings
        let group = MultiThreadedEventLoopGroup.singleton
        let credentials: Credentials = credentials ?? { _ in
            (((try? pki?.authorizationKeys.loadPassword()) ?? nil) ?? basicAuthPassword, tls)
        }
        let provisioned = OCPP201Endpoint(slot: 1, url: backendURL, securityProfile: securityProfile, messageTimeout: settings.messageTimeout)
        let variables = deviceModel?.variables
        // SecurityCtrlr.SecurityProfile once raised to 2 or 3 (1 is also its catalogue default,
        // which says nothing): no endpoint below it is tried.
        let raised = variables.map { $0.securityProfile >= 2 ? $0.securityProfile : 0 } ?? 0
        let endpoints = NetworkProfileStore(store: storage.config)
            .endpoints(priority: variables?.networkConfigurationPriority ?? [1], provisioned: provisioned, minimumSecurityProfile: raised)
        var plan = ConnectionPlan(endpoints: endpoints)
        // The first endpoint that can be configured at all (a slot whose credentials are missing is passed over).
        var connector: OCPPWebSocketClient?
        var firstError: (any Error)?
        for (i, endpoint) in endpoints.enumerated() {
            do {
                connector = try Self.connector(endpoint, identity: identity, subprotocols: subprotocols, credentials: credentials, group: group)
                plan.index = i
                break
            } catch {
                logger.error("network profile slot \(endpoint.slot) not usable: \(error)")
                firstError = firstError ?? error
            }
        }
        guard let connector else { throw firstError ?? OCPPTransportError.invalidConfiguration("no network profile") }
        let target = StationBox()
        let rpc = OCPPRPC(dialect: .ocpp201, timerLoop: group.next(), callTimeout: .seconds(Int64(max(1, settings.messageTimeout))),
                          immediately: { action, payload in
            target.value.locked({ $0 })?.answerImmediately(action: action, payload: payload)
        }, answering: { action, payload in
            guard let station = target.value.locked({ $0 }) else {
                return OCPPCallAnswer(.failure(OCPPCallError(.internalError, "charging station not ready")))
            }
            return await station.answer(action: action, payload: payload)
        })
        let chargingStation = OCPP201ChargingStation(identity: stationIdentity, sender: rpc, station: station, storage: storage,
                                                     settings: settings, unixMs: unixMs, external: external,
                                                     deviceModel: deviceModel, pki: pki,
                                                     securityProfile: plan.current.securityProfile.rawValue, firmware: firmware,
                                                     uploads: uploads,
                                                     logger: logger)
        target.value.locked { $0 = chargingStation }
        self.rpc = rpc
        self.chargingStation = chargingStation
        self.frameLog = frameLog
        self.otherVersionSelected = otherVersionSelected
        self.unixMs = unixMs
        self.identity = identity
        self.subprotocols = subprotocols
        self.credentials = credentials
        self.logger = logger
        self.plan = Mutex(plan)
        self.attemptsPerEndpoint = max(1, variables?.networkProfileConnectionAttempts ?? 3)
        self.connection = OCPPConnection(connector: connector, backoff: ReconnectBackoff(
            minimum: .seconds(Int64(1)), maximum: .seconds(Int64(30)), doublings: 4, randomRange: .seconds(Int64(1))),
            timerLoop: group.next())
    }

    static func connector(_ endpoint: OCPP201Endpoint, identity: String, subprotocols: [String], credentials: Credentials,
                          group: any EventLoopGroup) throws -> OCPPWebSocketClient {
        let profile = endpoint.securityProfile
        let (password, tls) = try credentials(profile)
        let configuration = try OCPPWebSocketConfiguration.forSecurityProfile(
            profile, backendURL: endpoint.url, identity: identity, subprotocols: subprotocols,
            basicAuthPassword: profile == .basicAuth || profile == .tlsWithBasicAuth ? password : nil,
            tls: profile.rawValue >= 2 ? tls : nil, pingInterval: .seconds(Int64(60)))
        return try OCPPWebSocketClient(configuration: configuration, group: group)
    }

    /// The endpoint connections go to now.
    public var currentEndpoint: OCPP201Endpoint { plan.locked { $0.current } }

    /// Connects (and keeps reconnecting) and starts the station's loops.
    public func start() async {
        chargingStation.recordSecurityEvent(SecurityEventService.startupOfTheDevice, atUnixMs: unixMs())
        await chargingStation.useConnection(reconnect: { [weak self] in self?.reconnect() })
        await chargingStation.start()
        let chargingStation = chargingStation
        let otherVersionSelected = otherVersionSelected
        let failures = connectFailuresReported
        let unixMs = unixMs
        connection.start(rpc: rpc, frameLog: frameLog) { [weak self] event in
            switch event {
            case .connected(let subprotocol):
                failures.value.locked { $0.removeAll() }
                guard subprotocol == OCPPRPCDialect.ocpp201.subprotocol else {
                    otherVersionSelected(subprotocol)
                    return
                }
                if let endpoint = self?.connected() { Task { await chargingStation.connected(on: endpoint) } }
                chargingStation.connectionUp()
            case .disconnected(let reason):
                chargingStation.connectionDown()
                // A CSMS that is not who it should be, or that refuses our credentials: the CSMS
                // hears of it once per run of failures, when it can be reached again.
                guard case .connectFailed(let error) = reason else { return }
                self?.connectFailed()
                let event: String? = switch error {
                case .tlsFailed: SecurityEventService.invalidCsmsCertificate
                case .upgradeRejected(let status, _) where status == 401 || status == 403: SecurityEventService.failedToAuthenticateAtCsms
                default: nil
                }
                guard let event, failures.value.locked({ $0.insert(event).inserted }) else { return }
                chargingStation.recordSecurityEvent(event, atUnixMs: unixMs(), techInfo: String(String(describing: error).prefix(255)))
            case .message, .reconnectScheduled: break
            }
        }
    }

    public func stop() async {
        await chargingStation.stop()
        await connection.stop()
        rpc.shutDown()
    }

    /// The connection is up on the current endpoint: its failures are forgotten, and CALLs wait
    /// for answers as long as its network profile's messageTimeout says.
    private func connected() -> OCPP201Endpoint {
        let endpoint = plan.locked { p in
            p.failures = 0
            return p.current
        }
        let timeout = max(1, endpoint.messageTimeout)
        if rpc.callTimeout != .seconds(Int64(timeout)) {
            rpc.setCallTimeout(.seconds(Int64(timeout)))
            logger.notice("network profile slot \(endpoint.slot): messageTimeout \(timeout) s")
        }
        return endpoint
    }

    /// One more failed attempt on the endpoint in use: after NetworkProfileConnectionAttempts
    /// of them, the next endpoint in priority order (round and round).
    private func connectFailed() {
        let next = plan.locked { p -> OCPP201Endpoint? in
            p.failures += 1
            guard p.failures >= attemptsPerEndpoint, p.endpoints.count > 1 else { return nil }
            p.failures = 0
            p.index = (p.index + 1) % p.endpoints.count
            return p.current
        }
        guard let next else { return }
        logger.warning("network profile: moving on to slot \(next.slot) (\(next.url))")
        use(next, reconnectNow: false)
    }

    /// A new connection to the endpoint in use, with the credentials as they are now.
    private func reconnect() {
        use(currentEndpoint, reconnectNow: true)
    }

    private func use(_ endpoint: OCPP201Endpoint, reconnectNow: Bool) {
        do {
            let connector = try Self.connector(endpoint, identity: identity, subprotocols: subprotocols, credentials: credentials,
                                               group: MultiThreadedEventLoopGroup.singleton)
            connection.replaceConnector(connector, reconnectNow: reconnectNow)
        } catch {
            // Cannot even be configured: the next failure moves on again.
            logger.error("network profile slot \(endpoint.slot) not usable: \(error)")
        }
    }
}

private final class ReportedFailures: Sendable {
    let value = Mutex<Set<String>>([])
}

/// The RPC handler is made before the station it calls.
private final class StationBox: Sendable {
    let value = Mutex<OCPP201ChargingStation?>(nil)
}
