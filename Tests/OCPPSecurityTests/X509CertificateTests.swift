import Foundation
import Testing
@testable import OCPPSecurity

@Suite struct X509CertificateTests {
    @Test func readsTheFieldsOpenSSLReports() throws {
        let pki = try TestPKI()
        try pki.makeRoot("root", days: 30)
        let leaf = try X509Certificate(pem: pki.makeCertificate("leaf", issuer: "root", days: 2, serial: "0x00ab12"))
        #expect(leaf.subject == "CN=leaf,O=SwiftEVSE Test")
        #expect(leaf.issuer == "CN=root,O=SwiftEVSE Test")
        #expect(leaf.subjectCommonName == "leaf")
        #expect(leaf.serialNumber == "ab12")
        #expect(leaf.notAfter - leaf.notBefore == 2 * 86_400)
        #expect(abs(leaf.notBefore - pki.now) < 300)
        #expect(!leaf.isCertificateAuthority)
        #expect(!leaf.isSelfSigned)

        let fingerprint = try pki.openssl(["x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha256"])
        let hex = fingerprint.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "") }
        #expect(hex?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == leaf.sha256Fingerprint)

        let root = try X509Certificate(pem: pki.read("root.pem"))
        #expect(root.isCertificateAuthority)
        #expect(root.isSelfSigned)
        #expect(root.serialNumber == "102")
        #expect(leaf.isSigned(by: root))
        #expect(!root.isSigned(by: leaf))
    }

    @Test func hashDataMatchesOpenSSLCertificateID() throws {
        let pki = try TestPKI()
        try pki.makeRoot("root", key: .rsa)
        try pki.makeCertificate("intermediate", issuer: "root", days: 10, extensions: "v3_ca", serial: "0x7f00")
        let leafPEM = try pki.makeCertificate("leaf", issuer: "intermediate")
        let root = try X509Certificate(pem: pki.read("root.pem"))
        let intermediate = try X509Certificate(pem: pki.read("intermediate.pem"))
        let leaf = try X509Certificate(pem: leafPEM)

        for (certificate, issuerName, issuer) in [(root, "root", root), (intermediate, "root", root), (leaf, "intermediate", intermediate)] {
            let name = certificate.subjectCommonName ?? ""
            let expected = try pki.openSSLCertificateID(name, issuer: issuerName)
            let hashData = try certificate.hashData(issuerCertificate: issuer)
            #expect(hashData.hashAlgorithm == .sha256)
            #expect(hashData.issuerNameHash == expected.nameHash.lowercased())
            #expect(hashData.issuerKeyHash == expected.keyHash.lowercased())
            #expect(hashData.serialNumber == CertificateHashData.normalizedSerial(expected.serial))
            #expect(hashData.issuerNameHash.count == 64)
        }
        // A root is its own issuer; anything else needs the issuer's certificate for the key hash.
        #expect(try root.hashData() == root.hashData(issuerCertificate: root))
        #expect(throws: OpenSSLError.self) { try leaf.hashData() }
    }

    @Test func hashDataComparisonIgnoresHexCaseAndLeadingZeros() {
        let stored = CertificateHashData(hashAlgorithm: .sha256, issuerNameHash: "ab01", issuerKeyHash: "cd02", serialNumber: "102")
        let fromBackend = CertificateHashData(hashAlgorithm: .sha256, issuerNameHash: "AB01", issuerKeyHash: "CD02", serialNumber: "0102")
        #expect(stored.identifiesSameCertificate(as: fromBackend))
        var otherSerial = fromBackend
        otherSerial.serialNumber = "103"
        #expect(!stored.identifiesSameCertificate(as: otherSerial))
        var otherAlgorithm = fromBackend
        otherAlgorithm.hashAlgorithm = .sha384
        #expect(!stored.identifiesSameCertificate(as: otherAlgorithm))
    }

    @Test func derAndPEMRoundTrip() throws {
        let pki = try TestPKI()
        let pem = try pki.makeRoot("root")
        let fromPEM = try X509Certificate(pem: pem)
        try pki.openssl(["x509", "-in", "root.pem", "-outform", "DER", "-out", "root.der"])
        let der = try pki.bytes("root.der")
        let fromDER = try X509Certificate(der: der)
        #expect(fromDER == fromPEM)
        #expect(try fromPEM.derBytes() == der)
        #expect(try X509Certificate(pem: fromDER.pem()) == fromPEM)
        #expect(throws: OpenSSLError.self) { try X509Certificate(der: der + [0]) }
        #expect(throws: OpenSSLError.self) { try X509Certificate(der: Array(der.dropLast(10))) }
        #expect(throws: OpenSSLError.self) { try X509Certificate(pem: "not a certificate") }
    }

    @Test func readsABundleInOrderAndRefusesAPartlyBrokenOne() throws {
        let pki = try TestPKI()
        let rootPEM = try pki.makeRoot("root")
        let leafPEM = try pki.makeCertificate("leaf", issuer: "root")
        let chain = try X509Certificate.chain(fromPEM: leafPEM + rootPEM)
        #expect(chain.map(\.subjectCommonName) == ["leaf", "root"])

        let broken = leafPEM + "-----BEGIN CERTIFICATE-----\nMIIBrokenBase64==\n-----END CERTIFICATE-----\n"
        #expect(throws: OpenSSLError.self) { try X509Certificate.chain(fromPEM: broken) }
        #expect(throws: OpenSSLError.self) { try X509Certificate.chain(fromPEM: "") }
    }
}

@Suite struct CertificateChainValidatorTests {
    /// root (30 days) -> intermediate (20 days) -> leaf (1 day, csms.example.test); otherRoot unrelated.
    struct Fixture {
        let pki: TestPKI
        let root: X509Certificate
        let otherRoot: X509Certificate
        let intermediate: X509Certificate
        let leaf: X509Certificate

        init() throws {
            pki = try TestPKI()
            root = try X509Certificate(pem: pki.makeRoot("root"))
            otherRoot = try X509Certificate(pem: pki.makeRoot("otherRoot"))
            intermediate = try X509Certificate(pem: pki.makeCertificate("intermediate", issuer: "root", days: 20, extensions: "v3_ca"))
            leaf = try X509Certificate(pem: pki.makeCertificate("leaf", issuer: "intermediate"))
        }

        func validate(_ leaf: X509Certificate? = nil, intermediates: [X509Certificate]? = nil, roots: [X509Certificate]? = nil,
                      secondsFromNow: Int64 = 60, purpose: CertificateChainValidator.Purpose = .any,
                      hostname: String? = nil) -> Result<[X509Certificate], ChainValidationError> {
            CertificateChainValidator.validate(leaf: leaf ?? self.leaf, intermediates: intermediates ?? [intermediate],
                                               roots: roots ?? [root], at: pki.now + secondsFromNow,
                                               purpose: purpose, hostname: hostname)
        }
    }

    func failure(_ result: Result<[X509Certificate], ChainValidationError>) -> ChainValidationError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test func goodChainReturnsLeafToRoot() throws {
        let fixture = try Fixture()
        let chain = try fixture.validate(roots: [fixture.otherRoot, fixture.root]).get()
        #expect(chain == [fixture.leaf, fixture.intermediate, fixture.root])
        #expect(throws: Never.self) { try fixture.validate(purpose: .tlsServer, hostname: "csms.example.test").get() }
        #expect(throws: Never.self) { try fixture.validate(purpose: .tlsClient).get() }
    }

    @Test func expiredAndNotYetValidAtTheGivenTime() throws {
        let fixture = try Fixture()
        let expired = failure(fixture.validate(secondsFromNow: 2 * 86_400))
        #expect(expired?.reason == .expired)
        #expect(expired?.depth == 0)
        #expect(expired?.subject == "CN=leaf,O=SwiftEVSE Test")
        #expect(expired?.openSSLCode == 10)
        #expect(failure(fixture.validate(secondsFromNow: 25 * 86_400))?.reason == .expired)
        #expect(failure(fixture.validate(secondsFromNow: -2 * 86_400))?.reason == .notYetValid)
    }

    @Test func untrustedRootMissingIntermediateOrNoRoots() throws {
        let fixture = try Fixture()
        #expect(failure(fixture.validate(roots: [fixture.otherRoot]))?.reason == .untrustedRoot)
        #expect(failure(fixture.validate(intermediates: []))?.reason == .untrustedRoot)
        #expect(failure(fixture.validate(roots: []))?.reason == .untrustedRoot)
        // A self-signed certificate is not trusted just because it is self-signed.
        #expect(failure(fixture.validate(fixture.otherRoot, intermediates: []))?.reason == .untrustedRoot)
    }

    @Test func tamperedSignatureOrContentIsABadSignature() throws {
        let fixture = try Fixture()
        let flippedSignature = try X509Certificate(der: fixture.pki.tamperedDER("leaf"))
        let error = failure(fixture.validate(flippedSignature))
        #expect(error?.reason == .badSignature)
        #expect(error?.depth == 0)

        var der = try fixture.leaf.derBytes()
        let target = Array("csms.example.test".utf8)
        guard let start = (0...(der.count - target.count)).first(where: { Array(der[$0..<$0 + target.count]) == target }) else {
            Issue.record("SAN not found in DER")
            return
        }
        der[start] = UInt8(ascii: "x")
        let alteredContent = try X509Certificate(der: der)
        #expect(failure(fixture.validate(alteredContent))?.reason == .badSignature)
    }

    @Test func hostnameAndPurposeAreChecked() throws {
        let fixture = try Fixture()
        #expect(failure(fixture.validate(hostname: "other.example.test"))?.reason == .hostnameMismatch)
        let serverOnly = try X509Certificate(pem: fixture.pki.makeCertificate("serverOnly", issuer: "intermediate",
                                                                              extensions: "v3_server_only"))
        #expect(throws: Never.self) { try fixture.validate(serverOnly, purpose: .tlsServer).get() }
        #expect(failure(fixture.validate(serverOnly, purpose: .tlsClient))?.reason == .wrongPurpose)
    }

    @Test func addressLiteralsMatchIPSubjectAltNames() throws {
        let fixture = try Fixture()
        let byAddress = try X509Certificate(pem: fixture.pki.makeCertificate("byAddress", issuer: "intermediate", extensions: "v3_ip"))
        #expect(throws: Never.self) { try fixture.validate(byAddress, purpose: .tlsServer, hostname: "127.0.0.1").get() }
        #expect(throws: Never.self) { try fixture.validate(byAddress, purpose: .tlsServer, hostname: "::1").get() }
        #expect(failure(fixture.validate(byAddress, hostname: "127.0.0.2"))?.reason == .hostnameMismatch)
        #expect(failure(fixture.validate(byAddress, hostname: "localhost"))?.reason == .hostnameMismatch)
        #expect(CertificateChainValidator.isIPAddressLiteral("10.0.0.1"))
        #expect(!CertificateChainValidator.isIPAddressLiteral("10.0.0.example"))
    }

    @Test func leafUsedAsIssuerIsRefused() throws {
        let fixture = try Fixture()
        let underLeaf = try X509Certificate(pem: fixture.pki.makeCertificate("underLeaf", issuer: "leaf"))
        let error = failure(fixture.validate(underLeaf, intermediates: [fixture.leaf, fixture.intermediate]))
        // BoringSSL does not take a certificate that is no CA as an issuer at all: the chain
        // stops at the leaf-issued certificate, unanchored.
        #expect(error?.reason == .untrustedRoot)
        #expect(error?.subject == underLeaf.subject)
    }
    /// 30 days before the end; a third of the life before it for certificates shorter than 90 days.
    @Test func aCertificateIsDueForRenewalThirtyDaysOrAThirdOfItsLifeBeforeItEnds() throws {
        let pki = try TestPKI()
        try pki.makeRoot("root", days: 800)
        let year = try X509Certificate(pem: pki.makeCertificate("year", issuer: "root", days: 365))
        #expect(CertificateRenewal.renewalStart(of: year) == year.notAfter - 30 * 86_400)
        #expect(!CertificateRenewal.isDue(year, at: year.notAfter - 30 * 86_400 - 1))
        #expect(CertificateRenewal.isDue(year, at: year.notAfter - 30 * 86_400))
        #expect(CertificateRenewal.isDue(year, at: year.notAfter + 1), "an expired one is due too")
        let week = try X509Certificate(pem: pki.makeCertificate("week", issuer: "root", days: 9))
        #expect(CertificateRenewal.renewalStart(of: week) == week.notAfter - 3 * 86_400)
        #expect(!CertificateRenewal.isDue(week, at: week.notBefore + 5 * 86_400))
        #expect(CertificateRenewal.isDue(week, at: week.notBefore + 6 * 86_400))
    }
}
