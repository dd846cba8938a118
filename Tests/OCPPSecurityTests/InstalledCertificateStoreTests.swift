import Foundation
import Testing
@testable import OCPPSecurity

@Suite struct InstalledCertificateStoreTests {
    @Test func installsListsByTypeWithOpenSSLHashData() throws {
        let pki = try TestPKI()
        let store = try InstalledCertificateStore(directory: pki.file("certs"))
        let csmsRoot = try pki.makeRoot("csmsRoot")
        try pki.makeRoot("manufacturerRoot", key: .rsa, serial: "0x2a")
        let installed = try store.install(pem: csmsRoot, as: .centralSystemRootCertificate, at: pki.now + 60)
        try store.install(pem: pki.read("manufacturerRoot.pem"), as: .manufacturerRootCertificate, at: pki.now + 60)

        let expected = try pki.openSSLCertificateID("csmsRoot", issuer: "csmsRoot")
        #expect(installed.issuerNameHash == expected.nameHash.lowercased())
        #expect(installed.issuerKeyHash == expected.keyHash.lowercased())
        #expect(installed.serialNumber == "102")
        #expect(try store.installedCertificateIds(of: .centralSystemRootCertificate) == [installed])
        let manufacturer = try store.installedCertificateIds(of: .manufacturerRootCertificate)
        #expect(manufacturer.map(\.serialNumber) == ["2a"])
        #expect(try store.certificates(of: .manufacturerRootCertificate).map(\.subjectCommonName) == ["manufacturerRoot"])
        #expect(try store.count() == 2)

        #expect(try pki.mode(of: pki.file("certs")) == 0o700)
        let file = pki.file("certs/CentralSystemRootCertificate/" + (try X509Certificate(pem: csmsRoot)).sha256Fingerprint + ".pem")
        #expect(try pki.mode(of: file) == 0o600)

        // Installing the same certificate again changes nothing.
        #expect(try store.install(pem: csmsRoot, as: .centralSystemRootCertificate, at: pki.now + 60) == installed)
        #expect(try store.count() == 2)
        // A fresh store over the same directory sees what was installed.
        #expect(try InstalledCertificateStore(directory: pki.file("certs")).count() == 2)
    }

    @Test func refusesCertificatesThatCannotBeRoots() throws {
        let pki = try TestPKI()
        let store = try InstalledCertificateStore(directory: pki.file("certs"))
        let root = try pki.makeRoot("root", days: 30)
        let leaf = try pki.makeCertificate("leaf", issuer: "root")
        func refusal(_ pem: String, at time: Int64) -> InstallCertificateError? {
            do {
                try store.install(pem: pem, as: .centralSystemRootCertificate, at: time)
                return nil
            } catch let error as InstallCertificateError {
                return error
            } catch {
                Issue.record("unexpected \(error)")
                return nil
            }
        }
        let certificate = try X509Certificate(pem: root)
        #expect(refusal(root, at: pki.now + 40 * 86_400) == .expired(notAfter: certificate.notAfter))
        #expect(refusal(root, at: pki.now - 86_400) == .notYetValid(notBefore: certificate.notBefore))
        #expect(refusal(leaf, at: pki.now + 60) == .notACertificateAuthority(subject: "CN=leaf,O=SwiftEVSE Test"))
        if case .malformed = refusal("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", at: pki.now) {} else {
            Issue.record("garbage was not refused as malformed")
        }
        let tampered = try X509Certificate(der: pki.tamperedDER("root"))
        #expect(refusal(try tampered.pem(), at: pki.now + 60) == .badSignature(subject: "CN=root,O=SwiftEVSE Test"))
        #expect(try store.count() == 0)
    }

    @Test func limitCountsAllTypes() throws {
        let pki = try TestPKI()
        let store = try InstalledCertificateStore(directory: pki.file("certs"), maximumCount: 2)
        try store.install(pem: pki.makeRoot("a"), as: .centralSystemRootCertificate, at: pki.now + 60)
        try store.install(pem: pki.makeRoot("b"), as: .manufacturerRootCertificate, at: pki.now + 60)
        #expect(throws: InstallCertificateError.storeFull(limit: 2)) {
            try store.install(pem: pki.makeRoot("c"), as: .centralSystemRootCertificate, at: pki.now + 60)
        }
        #expect(try store.count() == 2)
    }

    @Test func deleteByHashDataAsABackendSpellsIt() throws {
        let pki = try TestPKI()
        let store = try InstalledCertificateStore(directory: pki.file("certs"))
        let installed = try store.install(pem: pki.makeRoot("root"), as: .manufacturerRootCertificate, at: pki.now + 60)
        try store.install(pem: pki.makeRoot("keep", serial: "0x0103"), as: .centralSystemRootCertificate, at: pki.now + 60)
        let asSent = CertificateHashData(hashAlgorithm: .sha256, issuerNameHash: installed.issuerNameHash.uppercased(),
                                         issuerKeyHash: installed.issuerKeyHash.uppercased(), serialNumber: "0102")
        #expect(try store.delete(asSent) == .accepted)
        #expect(try store.installedCertificateIds(of: .manufacturerRootCertificate).isEmpty)
        #expect(try store.delete(asSent) == .notFound)
        #expect(try store.installedCertificateIds(of: .centralSystemRootCertificate).count == 1)
    }

    @Test func theLastCSMSRootStaysWhileTLSUsesItAndTheISO15118RootsHaveTheirOwnKinds() throws {
        let pki = try TestPKI()
        let store = try InstalledCertificateStore(directory: pki.file("certs"))
        let only = try store.install(pem: pki.makeRoot("csms"), as: .centralSystemRootCertificate, at: pki.now + 60)
        try store.install(pem: pki.makeRoot("v2g", serial: "0x0104"), as: .v2gRootCertificate, at: pki.now + 60)
        #expect(try store.installedCertificateIds(of: .v2gRootCertificate).count == 1)
        #expect(try store.installedCertificateIds(of: .moRootCertificate).isEmpty)
        #expect(try store.delete(only, centralSystemRootInUse: true) == .lastCentralSystemRootInUse)
        #expect(try store.installedCertificateIds(of: .centralSystemRootCertificate).count == 1, "nothing removed")
        #expect(try store.delete(only, centralSystemRootInUse: false) == .accepted)
        #expect(try store.count() == 1)
    }
}

@Suite struct CertificateSignedTests {
    /// root -> intermediate (CPO sub-CA); the station has an active key and a pending CSR key.
    struct Fixture {
        let pki: TestPKI
        let keys: StationKeyStore
        let root: X509Certificate
        let activeKey: StationKey
        let pendingKey: StationKey

        init() throws {
            pki = try TestPKI()
            keys = try StationKeyStore(directory: pki.file("keys"))
            root = try X509Certificate(pem: pki.makeRoot("root"))
            try pki.makeCertificate("intermediate", issuer: "root", days: 20, extensions: "v3_ca")
            activeKey = try keys.generateKey()
            pendingKey = try keys.generateKey(slot: .pending)
        }

        /// What the CSMS returns in CertificateSigned for `key`'s CSR: leaf + intermediate.
        func signedChain(for key: StationKey, name: String = "station") throws -> String {
            let csr = try CertificateSigningRequest.make(key: key, commonName: "SN-0042", organization: "Example CPO")
            try pki.write(name + ".csr", csr)
            return try pki.sign(csr: name + ".csr", as: name, issuer: "intermediate") + pki.read("intermediate.pem")
        }
    }

    @Test func validChainForThePendingKeyRotatesKeyAndCertificate() throws {
        let fixture = try Fixture()
        let chain = try fixture.keys.installSignedCertificate(chainPEM: fixture.signedChain(for: fixture.pendingKey),
                                                              trustedRoots: [fixture.root], at: fixture.pki.now + 60)
        #expect(chain.map(\.subjectCommonName) == ["SN-0042", "intermediate"])
        #expect(try fixture.keys.loadKey(.active).publicKeyPEM() == fixture.pendingKey.publicKeyPEM())
        #expect(try fixture.keys.loadKey(.previous).publicKeyPEM() == fixture.activeKey.publicKeyPEM())
        #expect(!fixture.keys.hasKey(.pending))
        let stored = try fixture.keys.loadCertificateChain()
        #expect(stored == chain)
        #expect(try fixture.pki.mode(of: fixture.keys.certificateChainPath()) == 0o600)
        #expect(try fixture.keys.loadKey().matches(chain[0]))
        // The stored chain is usable by OpenSSL's own TLS stack as is.
        let check = try fixture.pki.openssl(["verify", "-CAfile", "root.pem", "-untrusted", "intermediate.pem",
                                             fixture.keys.certificateChainPath()])
        #expect(check.contains("OK"))
    }

    @Test func renewalForTheActiveKeyKeepsThePreviousPairConsistent() throws {
        let fixture = try Fixture()
        let keys = try StationKeyStore(directory: fixture.pki.file("renewal"))
        let key = try keys.generateKey()
        let first = try keys.installSignedCertificate(chainPEM: fixture.signedChain(for: key, name: "first"),
                                                      trustedRoots: [fixture.root], at: fixture.pki.now + 60)
        try keys.installSignedCertificate(chainPEM: fixture.signedChain(for: key, name: "second"),
                                          trustedRoots: [fixture.root], at: fixture.pki.now + 60)
        #expect(try keys.loadCertificateChain(.previous) == first)
        let previousKey = try keys.loadKey(.previous)
        #expect(previousKey.matches(first[0]))
        #expect(try keys.loadKey().publicKeyPEM() == key.publicKeyPEM())
    }

    @Test func certificateForAnotherKeyChangesNothing() throws {
        let fixture = try Fixture()
        let stranger = try StationKey.generate()
        #expect(throws: CertificateSignedError.keyMismatch) {
            try fixture.keys.installSignedCertificate(chainPEM: fixture.signedChain(for: stranger),
                                                      trustedRoots: [fixture.root], at: fixture.pki.now + 60)
        }
        #expect(fixture.keys.hasKey(.pending))
        #expect(try fixture.keys.loadKey().publicKeyPEM() == fixture.activeKey.publicKeyPEM())
        #expect(try fixture.keys.loadCertificateChain() == nil)
    }

    @Test func chainToAnotherRootOrGarbageIsRefused() throws {
        let fixture = try Fixture()
        let otherRoot = try X509Certificate(pem: fixture.pki.makeRoot("otherRoot"))
        let chainPEM = try fixture.signedChain(for: fixture.pendingKey)
        do {
            try fixture.keys.installSignedCertificate(chainPEM: chainPEM, trustedRoots: [otherRoot], at: fixture.pki.now + 60)
            Issue.record("chain to an unknown root accepted")
        } catch CertificateSignedError.chainInvalid(let error) {
            #expect(error.reason == .untrustedRoot)
        }
        do {
            try fixture.keys.installSignedCertificate(chainPEM: chainPEM, trustedRoots: [fixture.root], at: fixture.pki.now + 3 * 86_400)
            Issue.record("expired certificate accepted")
        } catch CertificateSignedError.chainInvalid(let error) {
            #expect(error.reason == .expired)
        }
        do {
            try fixture.keys.installSignedCertificate(chainPEM: "garbage", trustedRoots: [fixture.root], at: fixture.pki.now)
            Issue.record("garbage accepted")
        } catch CertificateSignedError.malformedChain {
        }
        #expect(fixture.keys.hasKey(.pending))
        #expect(try fixture.keys.loadCertificateChain() == nil)
    }
}
