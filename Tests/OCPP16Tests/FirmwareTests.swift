import FirmwareUpdate
import ChargingCore
import FileTransfer
import Foundation
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization
import Testing
import TestSupport

@Suite("OCPP 1.6 FirmwareManagement and SignedUpdateFirmware", .timeLimit(.minutes(1)))
struct FirmwareTests {
    static let past = "2020-01-01T00:00:00Z"

    func update(_ h: FileHarness, location: String = "http://fw.example/image.bin", retrieve: String = past,
                retries: Int? = nil, interval: Int? = nil) async -> JSONValue? {
        var payload: JSONObject = ["location": .string(location), "retrieveDate": .string(retrieve)]
        if let retries { payload["retries"] = .integer(Int64(retries)) }
        if let interval { payload["retryInterval"] = .integer(Int64(interval)) }
        return await h.call("UpdateFirmware", .object(payload))
    }

    func signedUpdate(_ h: FileHarness, requestId: Int, certificate: String, signature: String,
                      retrieve: String = past, install: String? = nil) async -> String? {
        var firmware: JSONObject = ["location": "http://fw.example/signed.bin", "retrieveDateTime": .string(retrieve),
                                    "signingCertificate": .string(certificate), "signature": .string(signature)]
        if let install { firmware["installDateTime"] = .string(install) }
        return await h.call("SignedUpdateFirmware", ["requestId": .integer(Int64(requestId)), "firmware": .object(firmware)])?["status"]?.stringValue
    }

    func restartRequested(_ h: FileHarness) -> Bool { h.station.commands.contains(.restart(hard: false)) }

    /// The phase of the update as stored ("finished" once Installed was answered by the CSMS:
    /// until then a restart reports it again, as it must).
    func storedPhase(_ h: FileHarness) -> String? {
        guard let stored = try? h.storage.config.value(for: "ocpp16.firmware.update") else { return nil }
        return (try? JSONParser.parse(stored))?["phase"]?.stringValue
    }

    func availability(_ h: FileHarness) -> [StationRequest] {
        h.station.commands.filter { if case .changeAvailability = $0 { return true } else { return false } }
    }

    @Test func updateDownloadsInstallsRestartsAndReportsInstalledOnceAfterTheNewBoot() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        #expect(await update(h) == [:], "the answer is empty")
        #expect(await h.settle(releasing: [.milliseconds(Int64(200)), .seconds(Int64(1))]) { restartRequested(h) })
        // The notifications go out through their own queue; the restart waits for them only so long.
        #expect(await settle { h.statuses("FirmwareStatusNotification") == ["Downloading", "Downloaded", "Installing"] })
        #expect(h.installer.installed == [FakeFileTransfer.image], "the installer got the downloaded image")
        #expect(h.transfer.downloadCalls == ["http://fw.example/image.bin"])
        #expect(availability(h) == [.changeAvailability(connectorId: 1, operative: false), .changeAvailability(connectorId: 2, operative: false)],
                "no new session may start while installing")

        let after = try await h.restarted()
        #expect(await after.settle(releasing: []) { after.statuses("FirmwareStatusNotification") == ["Installed"] })
        #expect(after.csms.actions.first == "BootNotification", "nothing before the new boot was accepted")
        #expect(availability(after) == [.changeAvailability(connectorId: 1, operative: true), .changeAvailability(connectorId: 2, operative: true)])
        #expect(await settle { after.csms.payloads("SecurityEventNotification").contains { $0["type"] == "FirmwareUpdated" } })
        #expect(await settle { storedPhase(after) == "finished" }, "Installed was answered")
        let images = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path("firmware"))) ?? []
        #expect(images.isEmpty, "the image is removed once installed")

        // Reported once: a second restart does not report it again, and a trigger says Idle.
        let again = try await after.restarted()
        #expect(await again.call("TriggerMessage", ["requestedMessage": "FirmwareStatusNotification"])?["status"] == "Accepted")
        #expect(await settle { again.statuses("FirmwareStatusNotification") == ["Idle"] })
    }

    @Test func retrieveDateInTheFutureIsWaitedFor() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let in90s = OCPP16Timestamp.string(unixMs: h.clock.now() + 90_000)
        _ = await update(h, retrieve: in90s)
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(60))) }, "waits a minute at a time")
        #expect(h.transfer.downloadCalls.isEmpty)
        h.clock.advance(seconds: 60)
        h.sleeper.release(.seconds(Int64(60)))
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(30))) }, "then the rest")
        #expect(h.transfer.downloadCalls.isEmpty)
        h.clock.advance(seconds: 30)
        h.sleeper.release(.seconds(Int64(30)))
        #expect(await settle { h.transfer.downloadCalls.count == 1 })
    }

    @Test func failedDownloadsAreRetriedThenDownloadFailed() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.transfer.queueDownloads([.failure(.httpStatus(code: 404, reason: "Not Found")), .failure(.connectFailed("refused")),
                                   .failure(.timeout("waiting"))])
        _ = await update(h, retries: 2, interval: 7)
        #expect(await h.settle(releasing: [.seconds(Int64(7))]) { h.statuses("FirmwareStatusNotification").last == "DownloadFailed" })
        #expect(h.statuses("FirmwareStatusNotification") == ["Downloading", "Downloading", "Downloading", "DownloadFailed"])
        #expect(h.transfer.downloadCalls.count == 3, "1 + retries attempts")
        #expect(h.installer.installed.isEmpty)
        #expect(availability(h).isEmpty, "nothing was blocked for a download that failed")
        #expect(await h.call("TriggerMessage", ["requestedMessage": "FirmwareStatusNotification"])?["status"] == "Accepted")
        #expect(await settle { h.statuses("FirmwareStatusNotification").last == "Idle" })
    }

    @Test func noInstallationWhileASessionRuns() async throws {
        let scratch = try SecurityScratch()
        let station = FakeStation()
        station.update(2) { $0.status = .charging; $0.session = Session(id: "s1", connectorId: 2, idToken: IdToken("CARD1"),
                                                                          startReason: .local, meterStartWh: 0, startedAtUnixMs: 0) }
        let h = try await FileHarness(scratch: scratch, station: station)
        _ = await update(h)
        #expect(await h.settle(releasing: []) { availability(h).count == 2 }, "connectors unavailable (Scheduled where the session runs)")
        for _ in 0..<5 {
            h.sleeper.release(.seconds(Int64(1)))
            for _ in 0..<200 { await Task.yield() }
        }
        #expect(h.installer.installed.isEmpty, "not while connector 2 charges")
        #expect(await settle { h.statuses("FirmwareStatusNotification") == ["Downloading", "Downloaded"] })
        station.update(2) { $0.status = .available; $0.session = nil }
        #expect(await h.settle(releasing: [.seconds(Int64(1)), .milliseconds(Int64(200))]) { restartRequested(h) })
        #expect(h.installer.installed.count == 1)
    }

    @Test func withoutAnInstallerTheImageIsDownloadedAndInstallationFailed() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch, withInstaller: false)
        // What is on disk at the moment the CSMS hears the end: a stop right then must not
        // resume the update.
        let phaseWhenReported = Mutex<String?>(nil)
        let config = h.storage.config
        let base = FakeCSMS.acceptEverything()
        h.csms.setAnswer { action, payload in
            if action == "FirmwareStatusNotification", payload["status"] == "InstallationFailed",
               let stored = try? config.value(for: "ocpp16.firmware.update"), let state = try? JSONParser.parse(stored) {
                phaseWhenReported.locked { $0 = state["phase"]?.stringValue }
            }
            return base(action, payload)
        }
        _ = await update(h)
        #expect(await h.settle(releasing: []) { h.statuses("FirmwareStatusNotification").last == "InstallationFailed" })
        #expect(phaseWhenReported.locked { $0 } == "finished")
        #expect(h.statuses("FirmwareStatusNotification") == ["Downloading", "Downloaded", "InstallationFailed"])
        #expect(availability(h).isEmpty && !restartRequested(h))
        // Over: a restart reports nothing more.
        let after = try await h.restarted(withInstaller: false)
        _ = await after.call("TriggerMessage", ["requestedMessage": "FirmwareStatusNotification"])
        #expect(await settle { !after.statuses("FirmwareStatusNotification").isEmpty })
        #expect(after.statuses("FirmwareStatusNotification") == ["Idle"])
    }

    @Test func aFailedInstallationGivesTheConnectorsBack() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.installer.answer(.failed("exit status 3"))
        _ = await update(h)
        #expect(await h.settle(releasing: [.seconds(Int64(1))]) { h.statuses("FirmwareStatusNotification").last == "InstallationFailed" })
        #expect(h.statuses("FirmwareStatusNotification") == ["Downloading", "Downloaded", "Installing", "InstallationFailed"])
        #expect(availability(h).suffix(2) == [.changeAvailability(connectorId: 1, operative: true), .changeAvailability(connectorId: 2, operative: true)])
        #expect(!restartRequested(h))
    }

    @Test func aDownloadCutByARestartIsTriedAgain() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.transfer.queueDownloads([.hang])
        _ = await update(h, retries: 1)
        #expect(await settle { h.statuses("FirmwareStatusNotification") == ["Downloading"] })
        let after = try await h.restarted()
        #expect(await after.settle(releasing: [.seconds(Int64(1)), .milliseconds(Int64(200))]) { restartRequested(after) })
        #expect(await settle { after.statuses("FirmwareStatusNotification") == ["Downloading", "Downloaded", "Installing"] })
        #expect(h.transfer.downloadCalls.count == 2)
    }

    @Test func aDownloadCutByARestartWithNoAttemptLeftIsDownloadFailed() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.transfer.queueDownloads([.hang])
        _ = await update(h, retries: 0)
        #expect(await settle { h.statuses("FirmwareStatusNotification") == ["Downloading"] })
        let after = try await h.restarted()
        #expect(await settle { after.statuses("FirmwareStatusNotification") == ["DownloadFailed"] })
        #expect(h.transfer.downloadCalls.count == 1)
    }

    @Test func anInstallationCutByARestartIsInstallationFailed() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.installer.answer(nil)
        _ = await update(h)
        #expect(await h.settle(releasing: [.seconds(Int64(1))]) { h.statuses("FirmwareStatusNotification").last == "Installing" })
        let after = try await h.restarted()
        #expect(await settle { after.statuses("FirmwareStatusNotification") == ["InstallationFailed"] })
        #expect(availability(after) == [.changeAvailability(connectorId: 1, operative: true), .changeAvailability(connectorId: 2, operative: true)],
                "the connectors blocked before the restart are given back")
    }

    @Test func signedUpdateVerifiesTheSignatureAndReportsEveryStepWithItsRequestId() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let root = try scratch.makeCA("manufacturer")
        #expect(await h.call("InstallCertificate", ["certificateType": "ManufacturerRootCertificate", "certificate": .string(root)])?["status"] == "Accepted")
        let (certificate, signature) = try h.signed(FakeFileTransfer.image, by: "signer", root: "manufacturer")
        #expect(await signedUpdate(h, requestId: 42, certificate: certificate, signature: signature) == "Accepted")
        #expect(await h.settle(releasing: [.seconds(Int64(1)), .milliseconds(Int64(200))]) { restartRequested(h) })
        #expect(await settle { h.statuses("SignedFirmwareStatusNotification") == ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"] })
        #expect(h.csms.payloads("SignedFirmwareStatusNotification").allSatisfy { $0["requestId"] == 42 })
        #expect(h.statuses("FirmwareStatusNotification").isEmpty, "a signed update reports only the signed notification")

        let after = try await h.restarted()
        #expect(await settle { after.statuses("SignedFirmwareStatusNotification") == ["Installed"] })
        #expect(after.csms.payloads("SignedFirmwareStatusNotification").last?["requestId"] == 42)
        #expect(await settle { after.csms.payloads("SecurityEventNotification").contains { $0["type"] == "FirmwareUpdated" } })
        #expect(await settle { storedPhase(after) == "finished" }, "Installed was answered: the trigger finds no update running")
        #expect(await after.call("ExtendedTriggerMessage", ["requestedMessage": "FirmwareStatusNotification"])?["status"] == "Accepted")
        #expect(await settle { after.statuses("SignedFirmwareStatusNotification").last == "Idle" })
    }

    @Test func aTamperedImageIsInvalidSignatureAndNothingIsInstalled() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let root = try scratch.makeCA("manufacturer")
        _ = await h.call("InstallCertificate", ["certificateType": "ManufacturerRootCertificate", "certificate": .string(root)])
        let (certificate, signature) = try h.signed(FakeFileTransfer.image, by: "signer", root: "manufacturer")
        h.transfer.queueDownloads([.bytes(FakeFileTransfer.image + [0x00])])
        #expect(await signedUpdate(h, requestId: 7, certificate: certificate, signature: signature) == "Accepted")
        #expect(await h.settle(releasing: [.seconds(Int64(1))]) { h.statuses("SignedFirmwareStatusNotification").last == "InvalidSignature" })
        #expect(h.statuses("SignedFirmwareStatusNotification") == ["Downloading", "Downloaded", "InvalidSignature"])
        #expect(await settle { h.csms.payloads("SecurityEventNotification").contains { $0["type"] == "InvalidFirmwareSignature" } })
        #expect(h.installer.installed.isEmpty)
        #expect(availability(h).isEmpty && !restartRequested(h))
        // The whitepaper: a trigger after a failed update repeats its last status.
        _ = await h.call("ExtendedTriggerMessage", ["requestedMessage": "FirmwareStatusNotification"])
        #expect(await settle { h.statuses("SignedFirmwareStatusNotification").count == 4 })
        #expect(h.csms.payloads("SignedFirmwareStatusNotification").last?["status"] == "InvalidSignature")
    }

    @Test func aSigningCertificateOfAnotherRootIsInvalidCertificateAtOnce() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let root = try scratch.makeCA("manufacturer")
        _ = try scratch.makeCA("stranger")
        _ = await h.call("InstallCertificate", ["certificateType": "ManufacturerRootCertificate", "certificate": .string(root)])
        let (certificate, signature) = try h.signed(FakeFileTransfer.image, by: "impostor", root: "stranger")
        #expect(await signedUpdate(h, requestId: 9, certificate: certificate, signature: signature) == "InvalidCertificate")
        #expect(await settle { h.csms.payloads("SecurityEventNotification").contains { $0["type"] == "InvalidFirmwareSigningCertificate" } })
        for _ in 0..<500 { await Task.yield() }
        #expect(h.transfer.downloadCalls.isEmpty, "nothing is downloaded")
        #expect(h.statuses("SignedFirmwareStatusNotification").isEmpty)
    }

    @Test func aNewSignedUpdateCancelsTheRunningOne() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let root = try scratch.makeCA("manufacturer")
        _ = await h.call("InstallCertificate", ["certificateType": "ManufacturerRootCertificate", "certificate": .string(root)])
        let (certificate, signature) = try h.signed(FakeFileTransfer.image, by: "signer", root: "manufacturer")
        h.transfer.queueDownloads([.hang])
        #expect(await signedUpdate(h, requestId: 1, certificate: certificate, signature: signature) == "Accepted")
        #expect(await settle { h.statuses("SignedFirmwareStatusNotification") == ["Downloading"] })
        _ = await h.call("ExtendedTriggerMessage", ["requestedMessage": "FirmwareStatusNotification"])
        #expect(await settle { h.statuses("SignedFirmwareStatusNotification").count == 2 })
        #expect(h.csms.payloads("SignedFirmwareStatusNotification").last == ["status": "Downloading", "requestId": 1], "the trigger reports the real status")

        #expect(await signedUpdate(h, requestId: 2, certificate: certificate, signature: signature) == "AcceptedCanceled")
        #expect(await h.settle(releasing: [.seconds(Int64(1)), .milliseconds(Int64(200))]) { restartRequested(h) })
        let second = { h.csms.payloads("SignedFirmwareStatusNotification").filter { $0["requestId"] == 2 }.compactMap { $0["status"]?.stringValue } }
        #expect(await settle { second() == ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"] })
        #expect(h.installer.installed.count == 1)
    }

    @Test func futureDatesAreScheduled() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let root = try scratch.makeCA("manufacturer")
        _ = await h.call("InstallCertificate", ["certificateType": "ManufacturerRootCertificate", "certificate": .string(root)])
        let (certificate, signature) = try h.signed(FakeFileTransfer.image, by: "signer", root: "manufacturer")
        let retrieve = OCPP16Timestamp.string(unixMs: h.clock.now() + 30_000)
        let install = OCPP16Timestamp.string(unixMs: h.clock.now() + 50_000)
        #expect(await signedUpdate(h, requestId: 5, certificate: certificate, signature: signature, retrieve: retrieve, install: install) == "Accepted")
        #expect(await settle { h.statuses("SignedFirmwareStatusNotification") == ["DownloadScheduled"] })
        // The update may report DownloadScheduled before it starts sleeping: released until it woke.
        h.clock.advance(seconds: 30)
        #expect(await h.settle(releasing: [.seconds(Int64(30))]) { h.statuses("SignedFirmwareStatusNotification").last == "InstallScheduled" })
        #expect(h.statuses("SignedFirmwareStatusNotification") == ["DownloadScheduled", "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled"])
        #expect(h.installer.installed.isEmpty)
        h.clock.advance(seconds: 20)
        #expect(await h.settle(releasing: [.seconds(Int64(20)), .seconds(Int64(1)), .milliseconds(Int64(200))]) { restartRequested(h) })
    }

    @Test func requireSignedAnswersUpdateFirmwareNotSupported() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch) { $0.requireSignedFirmware = true }
        let result = await h.chargePoint.handle(action: "UpdateFirmware", payload: ["location": "http://x/y", "retrieveDate": .string(Self.past)])
        guard case .failure(let error) = result else { Issue.record("UpdateFirmware was accepted"); return }
        #expect(error.code == .notSupported)
        #expect(h.transfer.downloadCalls.isEmpty)
    }

    @Test func aLocationThatCannotBeUsedIsDownloadFailed() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        #expect(await update(h, location: "gopher://fw.example/x") == [:])
        #expect(await settle { h.statuses("FirmwareStatusNotification") == ["DownloadFailed"] })
        #expect(h.transfer.downloadCalls.isEmpty)
    }

    @Test func firmwareManagementIsAdvertised() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let answer = try GetConfigurationResponse(json: try #require(await h.call("GetConfiguration", [
            "key": ["SupportedFeatureProfiles", "SupportedFileTransferProtocols"]])))
        let values = Dictionary(uniqueKeysWithValues: (answer.configurationKey ?? []).map { ($0.key, $0.value ?? "") })
        #expect(values["SupportedFeatureProfiles"]?.split(separator: ",").contains("FirmwareManagement") == true)
        #expect(values["SupportedFileTransferProtocols"] == "FTP,HTTP,HTTPS")
    }
}

@Suite("Firmware installer command")
struct CommandFirmwareInstallerTests {
    func script(_ scratch: SecurityScratch, _ name: String, _ body: String) throws -> String {
        try scratch.write(name, "#!/bin/sh\n" + body + "\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path(name))
        return scratch.path(name)
    }

    @Test func exitStatusDecides() async throws {
        let scratch = try SecurityScratch()
        let ok = try script(scratch, "ok.sh", "cp \"$1\" \"$(dirname \"$0\")/installed.bin\"")
        try scratch.write("image.bin", "new firmware")
        let outcome = await CommandFirmwareInstaller(executable: ok).install(firmwareAt: scratch.path("image.bin"))
        #expect(outcome == .installed, "\(outcome)")
        #expect(try scratch.read("installed.bin") == "new firmware", "the installer got the image's path")
        let bad = try script(scratch, "bad.sh", "exit 3")
        #expect(await CommandFirmwareInstaller(executable: bad).install(firmwareAt: scratch.path("image.bin")) == .failed("the installer exited with status 3"))
        guard case .failed(let why) = await CommandFirmwareInstaller(executable: scratch.path("missing.sh")).install(firmwareAt: "x") else {
            Issue.record("a missing installer installed something")
            return
        }
        #expect(why.contains("cannot run the installer"))
    }

    @Test func anInstallerThatHangsIsStopped() async throws {
        let scratch = try SecurityScratch()
        let slow = try script(scratch, "slow.sh", "exec sleep 30")
        let outcome = await CommandFirmwareInstaller(executable: slow, timeout: .milliseconds(Int64(300))).install(firmwareAt: "x")
        guard case .failed(let why) = outcome else { Issue.record("a hanging installer succeeded"); return }
        #expect(why.contains("signal 15") && why.contains("longer than"), "\(why)")
    }
}
