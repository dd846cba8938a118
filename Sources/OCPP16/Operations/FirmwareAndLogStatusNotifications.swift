import LogUpload
import FirmwareUpdate
import OCPP16Messages
import OCPPSecurity

/// FirmwareStatusNotification, SignedFirmwareStatusNotification, DiagnosticsStatusNotification
/// and LogStatusNotification (charge point → CSMS): the services post them to the
/// FileStatusOutbox; they go out in order once registered. A notification that failed for a
/// lost connection waits for the next one; one the CSMS refuses is dropped (it would refuse it
/// again). The triggered ones report what is going on now.
extension OCPP16ChargePoint {
    /// The services' part of `start()`: their security events, their state after a restart,
    /// then delivery for as long as the charge point runs.
    func runFileServices() async {
        fileStatusOutbox.setSecurityEventRecorder { [weak self, unixMs] type, techInfo in
            self?.recordSecurityEvent(type, atUnixMs: unixMs(), techInfo: techInfo)
        }
        let certificates = security.certificates
        await firmware?.resume(verifier: { certificates.flatMap { try? FirmwareSignatureVerifier(store: $0) } })
        for await _ in fileStatusOutbox.kicks { await deliverFileStatuses() }
    }

    func deliverFileStatuses() async {
        while mayInitiate, let entry = fileStatusOutbox.first() {
            do {
                switch entry.message {
                case .firmware(let r): _ = try await send(r)
                case .signedFirmware(let r): _ = try await send(r)
                case .diagnostics(let r): _ = try await send(r)
                case .log(let r): _ = try await send(r)
                }
            } catch {
                logger.info("\(entry.message): \(error)")
                switch error {
                case .connectionLost, .timeout, .shutDown, .cancelled:
                    return  // still owed: sent after the next registration
                case .callError, .malformedResponse:
                    break
                }
            }
            fileStatusOutbox.removeFirst()
            await entry.onDelivered?()
        }
    }

    /// TriggerMessage FirmwareStatusNotification: the update's status in 1.6 terms (Idle when
    /// none runs or its step has no 1.6 name).
    func triggeredFirmwareStatus() async -> FirmwareStatusNotificationRequest {
        let now = await firmware?.triggeredStatus()
        let plain = now.flatMap { FirmwareStatusNotificationRequest.FirmwareStatus(rawValue: $0.status.rawValue) }
        return FirmwareStatusNotificationRequest(status: plain ?? .idle)
    }

    /// ExtendedTriggerMessage FirmwareStatusNotification: a SignedFirmwareStatusNotification
    /// with the update's requestId.
    func triggeredSignedFirmwareStatus() async -> SignedFirmwareStatusNotificationRequest {
        guard let now = await firmware?.triggeredStatus() else { return SignedFirmwareStatusNotificationRequest(status: .idle) }
        let status = SignedFirmwareStatusNotificationRequest.FirmwareStatusEnumType(rawValue: now.status.rawValue) ?? .idle
        return SignedFirmwareStatusNotificationRequest(status: status, requestId: status == .idle ? nil : now.requestId)
    }

    func triggeredDiagnosticsStatus() async -> DiagnosticsStatusNotificationRequest {
        DiagnosticsStatusNotificationRequest(status: await diagnostics?.diagnosticsStatus() ?? .idle)
    }

    func triggeredLogStatus() async -> LogStatusNotificationRequest {
        await diagnostics?.logStatus() ?? LogStatusNotificationRequest(status: .idle)
    }
}
