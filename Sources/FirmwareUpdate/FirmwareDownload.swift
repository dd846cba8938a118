#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FileTransfer
import Logging
import OCPPSecurity

/// The download (with its retries) and the signature check of a signed image; the image files
/// on disk.
extension FirmwareService {
    func download(_ g: Int) async {
        guard let j = current(g) else { return }
        report(.downloading, g)
        do {
            try makeDirectory(settings.firmwareDirectory)
            let bytes = try await settings.transfer.download(j.location, to: j.file, maxBytes: settings.maxFirmwareBytes)
            guard var done = current(g) else { unlink(j.file); return }
            logger.notice("firmware: downloaded \(bytes) bytes from \(FileTransferURL.redacted(j.location))")
            done.phase = .downloaded
            setJob(done, g)
            report(.downloaded, g)
        } catch {
            guard var failed = current(g) else { return }
            failed.failedAttempts += 1
            let attempts = failed.retries + 1
            if failed.failedAttempts >= attempts {
                logger.error("firmware: download failed: \(error); given up after \(failed.failedAttempts) attempt(s)")
                setJob(failed, g)
                finish(g, reporting: .downloadFailed)
                return
            }
            logger.warning("firmware: download failed: \(error); attempt \(failed.failedAttempts) of \(attempts), again in \(failed.retryIntervalSeconds) s")
            setJob(failed, g)
            await sleep(.seconds(Int64(failed.retryIntervalSeconds)))
        }
    }

    func verifySignature(_ g: Int) {
        guard var j = current(g) else { return }
        guard fileExists(j.file) else {
            // Lost (a power cut before the rename was synced): fetch it again.
            logger.warning("firmware: the downloaded image \(j.file) is gone; downloading again")
            j.phase = .downloading
            setJob(j, g)
            return
        }
        if j.kind == .signed {
            guard let verifier = verifierSource() else {
                logger.error("firmware: no certificate store to check the signature with")
                finish(g, reporting: .installVerificationFailed)
                return
            }
            do {
                try verifier.verify(firmwareAt: j.file, signatureBase64: j.signature ?? "",
                                    signingCertificatePEM: j.signingCertificate ?? "", at: Int64(unixMs() / 1_000))
                logger.notice("firmware: signature verified")
                if j.lastStatus != .signatureVerified { report(.signatureVerified, g) }
            } catch let error as FirmwareVerificationError {
                logger.error("firmware: \(error); nothing is installed")
                if let event = error.securityEventType { reporter.recordSecurityEvent(event, techInfo: String(error.description.prefix(255))) }
                finish(g, reporting: Status(rawValue: error.signedFirmwareStatus) ?? .invalidSignature)
                return
            } catch {
                logger.error("firmware: signature check failed: \(error); nothing is installed")
                finish(g, reporting: .installVerificationFailed)
                return
            }
        }
        guard var next = current(g) else { return }
        next.phase = .waitingToInstall
        setJob(next, g)
    }

    /// Images of updates that are over (a stop between their end and the removal leaves one).
    func removeStaleImages(keeping current: String?) {
        guard let directory = opendir(settings.firmwareDirectory) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            let path = settings.firmwareDirectory + "/" + name
            guard name.hasPrefix("firmware-"), path != current else { continue }
            unlink(path)
        }
    }

    func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    func makeDirectory(_ path: String) throws(FileTransferError) {
        try LocalFiles.ensureDirectory(path)
    }
}
