import LogUpload
import FileTransfer
import OCPP16Messages

/// GetDiagnostics (CSMS → charge point, FirmwareManagement): answered with the name the
/// archive will have at `location` (a directory URL: ftp, http or https); the DiagnosticsService
/// builds and uploads it, reporting Uploading, then Uploaded or UploadFailed.
extension OCPP16ChargePoint {
    func getDiagnostics(_ request: GetDiagnosticsRequest) async -> GetDiagnosticsResponse {
        guard let diagnostics else { return GetDiagnosticsResponse() }
        do {
            _ = try FileTransferURL(request.location)
        } catch {
            // No file will come: no fileName, and the CSMS hears UploadFailed.
            await diagnostics.refuse(.diagnostics, why: "\(error)")
            return GetDiagnosticsResponse()
        }
        let started = await diagnostics.start(
            .init(upload: .diagnostics, location: request.location,
                  fromMs: request.startTime.flatMap(OCPP16Timestamp.unixMs), toMs: request.stopTime.flatMap(OCPP16Timestamp.unixMs),
                  retries: request.retries, retryIntervalSeconds: request.retryInterval),
            stationName: identity.serialNumber ?? identity.model, snapshot: await diagnosticsSnapshot())
        logger.notice("GetDiagnostics: uploading \(started.fileName) to \(FileTransferURL.redacted(request.location))")
        return GetDiagnosticsResponse(fileName: started.fileName)
    }

    /// The charge point's side of the archive, taken now.
    func diagnosticsSnapshot() async -> DiagnosticsSnapshot {
        var station = DiagnosticsSnapshot.identityLines(vendor: identity.vendor, model: identity.model,
                                                        serialNumber: identity.serialNumber, firmwareVersion: identity.firmwareVersion) + [
            "registration = \(registration.rawValue)",
            "connected = \(isConnected)",
            "security_profile = \(security.profile.rawValue)",
            "firmware_update = \(await firmware?.summary() ?? "not supported")",
        ]
        for c in await connectors() {
            station.append(DiagnosticsSnapshot.connectorLine("connector \(c.id)", status: c.status?.rawValue, error: c.error.map { "\($0)" },
                                                             session: c.session.map { "session \($0.id)" }, energyWh: c.energyWh.map { "\($0)" }))
        }
        let keys = getConfiguration(GetConfigurationRequest(key: nil)).configurationKey ?? []
        let configuration = keys.map { "\($0.key) = \($0.value ?? "")\($0.readonly ? " (read-only)" : "")" }
        return DiagnosticsSnapshot(station: station, configuration: configuration)
    }
}
