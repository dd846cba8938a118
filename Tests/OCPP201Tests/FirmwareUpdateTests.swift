import FirmwareUpdate
import Foundation
import OCPP201
import OCPPJSON
import StationPort
import Testing
import TestSupport

/// Block L on the shared firmware service: every answer of UpdateFirmware, and a signed image
/// taken from the download to the restart, each FirmwareStatusNotification with its requestId.
@Suite("OCPP 2.0.1 UpdateFirmware (L01)")
struct FirmwareUpdateTests {
    /// A firmware signing certificate `name` issued by the CA `ca`, and the image's signature with its key.
    static func signer(_ scratch: SecurityScratch, _ name: String, ca: String, image: [UInt8]) throws -> (certificate: String, signature: String) {
        try scratch.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                             "-out", "\(name).csr", "-subj", "/CN=\(name)"])
        try scratch.write("\(name).ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")
        try scratch.openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
                             "-days", "10", "-sha256", "-extfile", "\(name).ext", "-out", "\(name).pem"])
        try Data(image).write(to: URL(fileURLWithPath: scratch.path("image.bin")))
        try scratch.openssl(["dgst", "-sha256", "-sign", "\(name).key", "-out", "image.\(name).sig", "image.bin"])
        let signature = try Data(contentsOf: URL(fileURLWithPath: scratch.path("image.\(name).sig"))).base64EncodedString()
        return (try scratch.read("\(name).pem"), signature)
    }

    static func update(_ h: Harness, _ requestId: Int, location: String = "https://files.example/fw.bin",
                       retrieve: String = "2020-01-01T00:00:00Z", signed: (certificate: String, signature: String)?) async throws -> JSONValue {
        var firmware: JSONValue = ["location": .string(location), "retrieveDateTime": .string(retrieve)]
        if let signed, case .object(var o) = firmware {
            o["signingCertificate"] = .string(signed.certificate)
            o["signature"] = .string(signed.signature)
            firmware = .object(o)
        }
        return try await h.chargingStation.handle(action: "UpdateFirmware", payload: [
            "requestId": .integer(Int64(requestId)), "retries": 0, "firmware": firmware]).get()
    }

    static func statuses(_ h: Harness, _ requestId: Int) -> [String] {
        h.csms.payloads("FirmwareStatusNotification").filter { $0["requestId"] == .integer(Int64(requestId)) }
            .compactMap { $0["status"]?.stringValue }
    }

    @Test func everyAnswerThenASignedImageFromTheDownloadToTheRestart() async throws {
        let scratch = try SecurityScratch()
        let pki = try OCPP201PKI(dataDirectory: scratch.directory)
        let installer = FakeInstaller()
        let settings = FirmwareUpdateSettings(transfer: FakeFileTransfer(), firmwareDirectory: scratch.path("firmware"), installer: installer)
        let h = try await Harness.accepted(pki: pki, clock: CertificateTests.now(), firmware: settings)
        let root = try scratch.makeCA("manufacturer")
        _ = try scratch.makeCA("stranger")
        #expect(try await CertificateTests.install(h, "ManufacturerRootCertificate", root)["status"] == "Accepted")
        let good = try Self.signer(scratch, "signer", ca: "manufacturer", image: FakeFileTransfer.image)
        let foreign = try Self.signer(scratch, "impostor", ca: "stranger", image: FakeFileTransfer.image)

        let unsigned = try await Self.update(h, 1, signed: nil)
        #expect(unsigned["status"] == "Rejected" && unsigned["statusInfo"]?["reasonCode"] == "SignatureRequired")
        #expect(try await Self.update(h, 2, location: "gopher://x", signed: good)["status"] == "Rejected")
        #expect(try await Self.update(h, 3, signed: foreign)["status"] == "InvalidCertificate")
        #expect(await settle { h.csms.payloads("SecurityEventNotification").contains { $0["type"] == "InvalidFirmwareSigningCertificate" } })
        // One for later (DownloadScheduled), then one for now that replaces it.
        #expect(try await Self.update(h, 7, retrieve: "2099-01-01T00:00:00Z", signed: good)["status"] == "Accepted")
        #expect(await settle { Self.statuses(h, 7) == ["DownloadScheduled"] })
        #expect(try await Self.update(h, 8, signed: good)["status"] == "AcceptedCanceled")
        #expect(await settle { Self.statuses(h, 8) == ["Downloading", "Downloaded", "SignatureVerified"] })
        // The installation waits a loop step (1 s) for the connectors to be made Unavailable and
        // for no session, then up to 10 s (200 ms at a time) for the notifications before the
        // restart: the manual sleeper lets each wait end when the test says.
        let restarted = await settle {
            if h.station.requests.contains(where: { if case .restart = $0 { return true } else { return false } }) { return true }
            h.sleeper.release(.seconds(Int64(1)))
            h.sleeper.release(.milliseconds(Int64(200)))
            return false
        }
        #expect(restarted)
        #expect(await settle { Self.statuses(h, 8) == ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"] })
        #expect(installer.installed.count == 1 && installer.installed.first == FakeFileTransfer.image, "the installer got the downloaded image")
        let triggered = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "FirmwareStatusNotification"]).get()
        #expect(triggered["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("FirmwareStatusNotification").last?["requestId"] == 8 })
    }

    @Test func withoutFirmwareSettingsUpdateFirmwareIsRejected() async throws {
        let h = try await Harness.accepted()
        let answer = try await Self.update(h, 1, signed: ("x", "y"))
        #expect(answer["status"] == "Rejected" && answer["statusInfo"]?["reasonCode"] == "NotSupported")
    }
}
