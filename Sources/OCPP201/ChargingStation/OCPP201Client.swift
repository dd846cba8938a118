import HAL
import Logging
import NIOCore
import NIOPosix
import OCPP201DeviceModel
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Synchronization

/// A charging station on a live connection: WebSocket (subprotocol ocpp2.0.1, security profile
/// 0–3: Basic auth with the BasicAuthPassword for 1 and 2, TLS with `tls` for 2 and 3),
/// reconnecting forever, the 2.0.1 RPC dialect (its CALLERROR spellings), and the
/// `OCPP201ChargingStation` on top. The profile is fixed for the run (no SetNetworkProfile yet).
///
/// `subprotocols` is what is offered: `["ocpp2.0.1"]`, or both versions when the daemon lets
/// the CSMS choose ("auto"). A CSMS that picks another one than 2.0.1 gets nothing spoken to it
/// on that connection: `otherVersionSelected` is told, and the daemon restarts with that
/// version's adapter.
public final class OCPP201Client: Sendable {
    public let chargingStation: OCPP201ChargingStation
    private let connection: OCPPConnection
    private let rpc: OCPPRPC
    private let frameLog: OCPPFrameLog?
    private let otherVersionSelected: @Sendable (String) -> Void
    private let unixMs: @Sendable () -> UInt64
    /// Security events already raised for the current run of connection failures.
    private let connectFailuresReported = ReportedFailures()

    public init(backendURL: String, identity: String, stationIdentity: OCPP201ChargingStation.Identity,
                station: any StationPort, storage: StationStorage, settings: OCPP201Settings = OCPP201Settings(),
                unixMs: @escaping @Sendable () -> UInt64, securityProfile: OCPPSecurityProfile = .unsecured,
                basicAuthPassword: [UInt8]? = nil, tls: OCPPTLSSettings? = nil, subprotocols: [String] = [OCPPRPCDialect.ocpp201.subprotocol],
                external: OCPP201OperationRegistry = OCPP201OperationRegistry(), deviceModel: DeviceModel? = nil,
                frameLog: OCPPFrameLog? = nil, otherVersionSelected: @escaping @Sendable (String) -> Void = { _ in },
                logger: Logger = Logger(label: "ocpp201")) throws {
        let settings = deviceModel.map { OCPP201Settings(variables: $0.variables, base: settings) } ?? settings
        let group = MultiThreadedEventLoopGroup.singleton
        let configuration = try OCPPWebSocketConfiguration.forSecurityProfile(
            securityProfile, backendURL: backendURL, identity: identity, subprotocols: subprotocols,
            basicAuthPassword: securityProfile == .basicAuth || securityProfile == .tlsWithBasicAuth ? basicAuthPassword : nil,
            tls: securityProfile.rawValue >= 2 ? tls : nil, pingInterval: .seconds(Int64(60)))
        let client = try OCPPWebSocketClient(configuration: configuration, group: group)
        let target = StationBox()
        let rpc = OCPPRPC(dialect: .ocpp201, timerLoop: group.next(), callTimeout: .seconds(Int64(max(1, settings.messageTimeout))),
                          answering: { action, payload in
            guard let station = target.value.withLock({ $0 }) else {
                return OCPPCallAnswer(.failure(OCPPCallError(.internalError, "charging station not ready")))
            }
            return await station.answer(action: action, payload: payload)
        })
        let chargingStation = OCPP201ChargingStation(identity: stationIdentity, sender: rpc, station: station, storage: storage,
                                                     settings: settings, unixMs: unixMs, external: external,
                                                     deviceModel: deviceModel, logger: logger)
        target.value.withLock { $0 = chargingStation }
        self.rpc = rpc
        self.chargingStation = chargingStation
        self.frameLog = frameLog
        self.otherVersionSelected = otherVersionSelected
        self.unixMs = unixMs
        self.connection = OCPPConnection(connector: client, backoff: ReconnectBackoff(
            minimum: .seconds(Int64(1)), maximum: .seconds(Int64(30)), doublings: 4, randomRange: .seconds(Int64(1))),
            timerLoop: group.next())
    }

    /// Connects (and keeps reconnecting) and starts the station's loops.
    public func start() async {
        chargingStation.recordSecurityEvent(SecurityEventService.startupOfTheDevice, atUnixMs: unixMs())
        await chargingStation.start()
        let chargingStation = chargingStation
        let otherVersionSelected = otherVersionSelected
        let failures = connectFailuresReported
        let unixMs = unixMs
        connection.start(rpc: rpc, frameLog: frameLog) { event in
            switch event {
            case .connected(let subprotocol):
                failures.value.withLock { $0.removeAll() }
                guard subprotocol == OCPPRPCDialect.ocpp201.subprotocol else {
                    otherVersionSelected(subprotocol)
                    return
                }
                chargingStation.connectionUp()
            case .disconnected(let reason):
                chargingStation.connectionDown()
                // A CSMS that is not who it should be, or that refuses our credentials: the CSMS
                // hears of it once per run of failures, when it can be reached again.
                guard case .connectFailed(let error) = reason else { return }
                let event: String? = switch error {
                case .tlsFailed: SecurityEventService.invalidCsmsCertificate
                case .upgradeRejected(let status, _) where status == 401 || status == 403: SecurityEventService.failedToAuthenticateAtCsms
                default: nil
                }
                guard let event, failures.value.withLock({ $0.insert(event).inserted }) else { return }
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
}

private final class ReportedFailures: Sendable {
    let value = Mutex<Set<String>>([])
}

/// The RPC handler is made before the station it calls.
private final class StationBox: Sendable {
    let value = Mutex<OCPP201ChargingStation?>(nil)
}
