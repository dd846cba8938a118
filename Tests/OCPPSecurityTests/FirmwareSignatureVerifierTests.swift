import Foundation
import Testing
@testable import OCPPSecurity

@Suite struct FirmwareSignatureVerifierTests {
    /// manufacturerRoot -> signer (EC) and rsaSigner (RSA); strangerRoot -> stranger.
    /// firmware.bin is 300,001 random bytes, so it spans several read chunks.
    struct Fixture {
        let pki: TestPKI
        let manufacturerRoot: X509Certificate

        init() throws {
            pki = try TestPKI()
            manufacturerRoot = try X509Certificate(pem: pki.makeRoot("manufacturerRoot"))
            try pki.makeCertificate("signer", issuer: "manufacturerRoot", days: 5)
            try pki.makeCertificate("rsaSigner", issuer: "manufacturerRoot", days: 5, key: .rsa)
            try pki.makeRoot("strangerRoot")
            try pki.makeCertificate("stranger", issuer: "strangerRoot", days: 5)
            try pki.openssl(["rand", "-out", "firmware.bin", "300001"])
        }

        /// Base64 (line-wrapped, as `openssl base64` writes it) of `signer`'s SHA-256 signature over `file`.
        func signature(by signer: String, of file: String = "firmware.bin") throws -> String {
            try pki.openssl(["dgst", "-sha256", "-sign", signer + ".key", "-out", signer + ".sig", file])
            return try pki.openssl(["base64", "-in", signer + ".sig"])
        }

        func verify(signer: String, signature: String, file: String = "firmware.bin", chunkSize: Int = 64 * 1024,
                    roots: [X509Certificate]? = nil) throws -> X509Certificate {
            try FirmwareSignatureVerifier(manufacturerRoots: roots ?? [manufacturerRoot], chunkSize: chunkSize)
                .verify(firmwareAt: pki.file(file), signatureBase64: signature,
                        signingCertificatePEM: pki.read(signer + ".pem"), at: pki.now + 60)
        }

        func refusal(signer: String, signature: String, file: String = "firmware.bin") -> FirmwareVerificationError? {
            do {
                _ = try verify(signer: signer, signature: signature, file: file)
                return nil
            } catch let error as FirmwareVerificationError {
                return error
            } catch {
                Issue.record("unexpected \(error)")
                return nil
            }
        }
    }

    @Test func goodECAndRSASignaturesVerifyInAnyChunkSize() throws {
        let fixture = try Fixture()
        let signature = try fixture.signature(by: "signer")
        #expect(try fixture.verify(signer: "signer", signature: signature).subjectCommonName == "signer")
        #expect(try fixture.verify(signer: "signer", signature: signature, chunkSize: 1000).subjectCommonName == "signer")
        let rsaSignature = try fixture.signature(by: "rsaSigner")
        #expect(try fixture.verify(signer: "rsaSigner", signature: rsaSignature).subjectCommonName == "rsaSigner")
    }

    @Test func tamperedFileIsAnInvalidSignature() throws {
        let fixture = try Fixture()
        let signature = try fixture.signature(by: "signer")
        var firmware = try fixture.pki.bytes("firmware.bin")
        firmware[150_000] ^= 0x80
        try fixture.pki.writeBytes("tampered.bin", firmware)
        let error = fixture.refusal(signer: "signer", signature: signature, file: "tampered.bin")
        #expect(error?.signedFirmwareStatus == "InvalidSignature")
        #expect(error?.securityEventType == "InvalidFirmwareSignature")
        // A signature made by another key of the same manufacturer is just as wrong.
        let rsaSignature = try fixture.signature(by: "rsaSigner")
        #expect(fixture.refusal(signer: "signer", signature: rsaSignature)?.signedFirmwareStatus == "InvalidSignature")
        #expect(fixture.refusal(signer: "signer", signature: "not*base64")?.signedFirmwareStatus == "InvalidSignature")
        #expect(fixture.refusal(signer: "signer", signature: "")?.signedFirmwareStatus == "InvalidSignature")
    }

    @Test func certificateFromAnotherRootIsAnInvalidCertificate() throws {
        let fixture = try Fixture()
        // Correctly signed, but by a certificate the station has no manufacturer root for.
        let signature = try fixture.signature(by: "stranger")
        let error = fixture.refusal(signer: "stranger", signature: signature)
        #expect(error?.signedFirmwareStatus == "InvalidCertificate")
        #expect(error?.securityEventType == "InvalidFirmwareSigningCertificate")
        if case .invalidCertificate(let detail) = error {
            #expect(detail.contains("untrustedRoot"))
        } else {
            Issue.record("expected invalidCertificate, got \(String(describing: error))")
        }
    }

    @Test func signingCertificateIsCheckedOnReceiptBeforeAnyDownload() throws {
        let fixture = try Fixture()
        let verifier = FirmwareSignatureVerifier(manufacturerRoots: [fixture.manufacturerRoot])
        #expect(try verifier.validateSigningCertificate(fixture.pki.read("signer.pem") + fixture.pki.read("manufacturerRoot.pem"),
                                                        at: fixture.pki.now + 60).subjectCommonName == "signer")
        #expect(throws: FirmwareVerificationError.self) {
            try verifier.validateSigningCertificate(fixture.pki.read("stranger.pem"), at: fixture.pki.now + 60)
        }
        #expect(throws: FirmwareVerificationError.self) {
            try verifier.validateSigningCertificate("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", at: fixture.pki.now)
        }
        #expect(throws: FirmwareVerificationError.self) {
            try FirmwareSignatureVerifier(manufacturerRoots: []).validateSigningCertificate(fixture.pki.read("signer.pem"), at: fixture.pki.now + 60)
        }
    }

    @Test func expiredSigningCertificateIsRefused() throws {
        let fixture = try Fixture()
        let signature = try fixture.signature(by: "signer")
        #expect(throws: FirmwareVerificationError.self) {
            try FirmwareSignatureVerifier(manufacturerRoots: [fixture.manufacturerRoot])
                .verify(firmwareAt: fixture.pki.file("firmware.bin"), signatureBase64: signature,
                        signingCertificatePEM: fixture.pki.read("signer.pem"), at: fixture.pki.now + 6 * 86_400)
        }
    }

    @Test func missingFileIsReported() throws {
        let fixture = try Fixture()
        let signature = try fixture.signature(by: "signer")
        guard case .unreadableFile(let error) = fixture.refusal(signer: "signer", signature: signature, file: "absent.bin") else {
            Issue.record("missing file not reported as unreadable")
            return
        }
        #expect(error.path.hasSuffix("absent.bin"))
    }

    @Test func onlyInstalledManufacturerRootsAnchorFirmware() throws {
        let fixture = try Fixture()
        let store = try InstalledCertificateStore(directory: fixture.pki.file("certs"))
        // The stranger's root is installed, but as a CSMS root: it must not vouch for firmware.
        try store.install(pem: fixture.pki.read("strangerRoot.pem"), as: .centralSystemRootCertificate, at: fixture.pki.now + 60)
        try store.install(pem: fixture.pki.read("manufacturerRoot.pem"), as: .manufacturerRootCertificate, at: fixture.pki.now + 60)
        let verifier = try FirmwareSignatureVerifier(store: store)
        let good = try fixture.signature(by: "signer")
        #expect(try verifier.verify(firmwareAt: fixture.pki.file("firmware.bin"), signatureBase64: good,
                                    signingCertificatePEM: fixture.pki.read("signer.pem"), at: fixture.pki.now + 60) ==
                X509Certificate(pem: fixture.pki.read("signer.pem")))
        let strangers = try fixture.signature(by: "stranger")
        #expect(throws: FirmwareVerificationError.self) {
            try verifier.verify(firmwareAt: fixture.pki.file("firmware.bin"), signatureBase64: strangers,
                                signingCertificatePEM: fixture.pki.read("stranger.pem"), at: fixture.pki.now + 60)
        }
    }
}
