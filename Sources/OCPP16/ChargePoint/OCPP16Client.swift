import HAL
import Logging
import NIOCore
import NIOPosix
import OCPPJSON
import OCPPTransport
import Storage
import Synchronization

/// A charge point on a live connection: WebSocket (subprotocol ocpp1.6, security profile 0),
/// reconnecting forever, the 1.6 RPC dialect, and the `OCPP16ChargePoint` on top.
public final class OCPP16Client: Sendable {
    public let chargePoint: OCPP16ChargePoint
    private let connection: OCPPConnection
    private let rpc: OCPPRPC

    public init(backendURL: String, identity: String, chargePointIdentity: OCPP16ChargePoint.Identity,
                station: any OCPP16StationPort, storage: StationStorage, numberOfConnectors: Int,
                unixMs: @escaping @Sendable () -> UInt64,
                logger: Logger = Logger(label: "ocpp16")) throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let keys = ConfigurationService(store: storage.config, numberOfConnectors: numberOfConnectors)
        let ping = keys.int("WebSocketPingInterval") ?? 60
        let configuration = try OCPPWebSocketConfiguration.forSecurityProfile(
            .unsecured, backendURL: backendURL, identity: identity, subprotocols: ["ocpp1.6"],
            pingInterval: ping > 0 ? .seconds(Int64(ping)) : nil)
        let client = try OCPPWebSocketClient(configuration: configuration, group: group)
        let target = ChargePointBox()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: group.next()) { action, payload in
            guard let chargePoint = target.value.withLock({ $0 }) else {
                return .failure(OCPPCallError(.internalError, "charge point not ready"))
            }
            return await chargePoint.handle(action: action, payload: payload)
        }
        let chargePoint = OCPP16ChargePoint(identity: chargePointIdentity, sender: rpc, station: station,
                                            storage: storage, numberOfConnectors: numberOfConnectors,
                                            unixMs: unixMs, logger: logger)
        target.value.withLock { $0 = chargePoint }
        self.rpc = rpc
        self.chargePoint = chargePoint
        self.connection = OCPPConnection(connector: client, backoff: ReconnectBackoff(
            minimum: .seconds(Int64(1)), maximum: .seconds(Int64(30)), doublings: 4, randomRange: .seconds(Int64(1))),
            timerLoop: group.next())
    }

    /// Connects (and keeps reconnecting) and starts the charge point's loops.
    public func start() async {
        await chargePoint.start()
        let chargePoint = chargePoint
        connection.start(rpc: rpc) { event in
            switch event {
            case .connected: chargePoint.connectionUp()
            case .disconnected: chargePoint.connectionDown()
            case .message, .reconnectScheduled: break
            }
        }
    }

    public func stop() async {
        await chargePoint.stop()
        await connection.stop()
        rpc.shutDown()
    }
}

/// The RPC handler is made before the charge point it calls.
private final class ChargePointBox: Sendable {
    let value = Mutex<OCPP16ChargePoint?>(nil)
}
