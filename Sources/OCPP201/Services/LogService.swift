import LogUpload
import OCPP201DeviceModel
import OCPP201Messages

/// Functional block N's GetLog (N01) on the shared `DiagnosticsService`: the diagnostics
/// archive (DiagnosticsLog) or the security log (SecurityLog) put together and uploaded as the
/// 1.6 charge point's are, each step a LogStatusNotification with the requestId (through the
/// `FileStatusQueue`). CustomerInformation is not served.
enum LogService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(GetLogRequest.self) { station, request in await station.getLog(request) }
    }
}

extension OCPP201ChargingStation {
    /// The station's side of the archive, taken now: who it is, its connection, its EVSEs, and
    /// the device model's values (no secret: BasicAuthPassword is never in the device model).
    func diagnosticsSnapshot() async -> DiagnosticsSnapshot {
        var station = DiagnosticsSnapshot.identityLines(vendor: identity.vendor, model: identity.model,
                                                        serialNumber: identity.serialNumber, firmwareVersion: identity.firmwareVersion) + [
            "ocpp_version = 2.0.1",
            "registration = \(registration.rawValue)",
            "connected = \(isConnected)",
            "security_profile = \(securityProfile)",
            "firmware_update = \(await firmware?.summary() ?? "not supported")",
        ]
        for c in await connectors() {
            station.append(DiagnosticsSnapshot.connectorLine("evse \(c.id)", status: c.status?.rawValue, error: c.error.map { "\($0)" },
                                                             session: c.session.map { "transaction \($0.id)" }, energyWh: c.energyWh.map { "\($0)" }))
        }
        let configuration = (deviceModel?.keys ?? []).filter { $0 != .basicAuthPassword }.map { key in
            "\(key) = \(deviceModel?.value(key) ?? "")"
        }
        return DiagnosticsSnapshot(station: station, configuration: configuration)
    }

    /// What TriggerMessage LogStatusNotification reports: Uploading with the requestId while an
    /// upload runs, Idle otherwise.
    func triggeredLogStatus() async -> LogStatusNotificationRequest {
        if case let .log(_, requestId)? = await logs?.runningUpload() {
            return LogStatusNotificationRequest(status: .uploading, requestId: requestId)
        }
        return LogStatusNotificationRequest(status: .idle)
    }
}
