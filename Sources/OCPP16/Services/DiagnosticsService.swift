import FileTransfer
import LogUpload
import OCPP16Messages

extension DiagnosticsService {
    /// FirmwareManagement's GetDiagnostics and the whitepaper's GetLog (registered only where
    /// the service runs). The upload itself is the shared `DiagnosticsService`.
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(GetDiagnosticsRequest.self) { chargePoint, request in await chargePoint.getDiagnostics(request) }
        registry.register(GetLogRequest.self) { chargePoint, request in await chargePoint.getLog(request) }
    }

    /// What a DiagnosticsStatusNotification triggered now says.
    func diagnosticsStatus() async -> DiagnosticsStatusNotificationRequest.DiagnosticsStatus {
        if case .diagnostics = runningUpload() { return .uploading }
        return .idle
    }

    /// What a LogStatusNotification triggered now says.
    func logStatus() async -> LogStatusNotificationRequest {
        if case let .log(_, requestId) = runningUpload() { return LogStatusNotificationRequest(status: .uploading, requestId: requestId) }
        return LogStatusNotificationRequest(status: .idle)
    }
}

/// Uploads report through the outbox: GetDiagnostics as DiagnosticsStatusNotification, GetLog
/// as LogStatusNotification with its requestId and the failure's reason (`logStatusName`).
extension FileStatusOutbox: UploadStatusReporting {
    public func report(_ status: UploadStatus, of upload: DiagnosticsService.Upload) {
        switch upload {
        case .diagnostics:
            let s: DiagnosticsStatusNotificationRequest.DiagnosticsStatus = switch status {
            case .uploading: .uploading
            case .uploaded: .uploaded
            case .failed: .uploadFailed
            }
            post(.diagnostics(DiagnosticsStatusNotificationRequest(status: s)))
        case let .log(_, requestId):
            let s = LogStatusNotificationRequest.UploadLogStatusEnumType(rawValue: status.logStatusName) ?? .uploadFailure
            post(.log(LogStatusNotificationRequest(status: s, requestId: requestId)))
        }
    }
}
