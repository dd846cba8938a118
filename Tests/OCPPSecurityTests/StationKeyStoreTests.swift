import Foundation
import Testing
@testable import OCPPSecurity

@Suite struct StationKeyStoreTests {
    @Test func generatedECKeyIsStoredPrivatelyAndLoadsBack() throws {
        let pki = try TestPKI()
        // An existing, too-open directory is tightened.
        try FileManager.default.createDirectory(atPath: pki.file("keys"), withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
        let store = try StationKeyStore(directory: pki.file("keys"))
        let key = try store.generateKey()
        #expect(try pki.mode(of: pki.file("keys")) == 0o700)
        #expect(try pki.mode(of: store.keyPath()) == 0o600)
        #expect(key.algorithmDescription == "EC prime256v1")

        let loaded = try store.loadKey()
        #expect(try loaded.publicKeyPEM() == key.publicKeyPEM())
        let publicFromCLI = try pki.openssl(["pkey", "-in", store.keyPath(), "-pubout"])
        #expect(publicFromCLI == (try key.publicKeyPEM()))
    }

    @Test func createsNestedDirectoryWithTightMode() throws {
        let pki = try TestPKI()
        let store = try StationKeyStore(directory: pki.file("data/security/keys"))
        try store.generateKey(slot: .pending)
        #expect(try pki.mode(of: pki.file("data/security/keys")) == 0o700)
        #expect(try pki.mode(of: store.keyPath(.pending)) == 0o600)
        #expect(store.hasKey(.pending))
        #expect(!store.hasKey(.active))
    }

    @Test func rsaKeyOnRequest() throws {
        let pki = try TestPKI()
        let store = try StationKeyStore(directory: pki.file("keys"))
        let key = try store.generateKey(.rsa2048)
        #expect(key.algorithmDescription == "RSA 2048")
        let text = try pki.openssl(["pkey", "-in", store.keyPath(), "-noout", "-text_pub"])
        #expect(text.contains("2048 bit"))
        #expect(throws: OpenSSLError.self) { try StationKey.generate(.rsa(bits: 1024)) }
    }

    @Test func keyNeverPrintsItsMaterial() throws {
        let pki = try TestPKI()
        let store = try StationKeyStore(directory: pki.file("keys"))
        let key = try store.generateKey()
        let pem = try pki.read("keys/station-key.pem")
        let body = pem.split(separator: "\n").dropFirst().first.map(String.init) ?? "missing"
        for text in ["\(key)", String(reflecting: key), "\([key])"] {
            #expect(text.contains("redacted"))
            #expect(!text.contains("PRIVATE"))
            #expect(!text.contains(body))
        }
    }

    @Test func loadOrGenerateKeepsTheFirstKey() throws {
        let pki = try TestPKI()
        let store = try StationKeyStore(directory: pki.file("keys"))
        let first = try store.loadOrGenerateActiveKey()
        let second = try store.loadOrGenerateActiveKey()
        #expect(try first.publicKeyPEM() == second.publicKeyPEM())
    }

    @Test func missingOrCorruptKeyFileIsAClearError() throws {
        let pki = try TestPKI()
        let store = try StationKeyStore(directory: pki.file("keys"))
        #expect(throws: SecurityFileError.self) { try store.loadKey() }
        try pki.write("keys/station-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        do {
            _ = try store.loadKey()
            Issue.record("corrupt key loaded")
        } catch let error as OpenSSLError {
            #expect(!error.details.isEmpty)
            #expect(error.description.contains("PEM_read_bio_PrivateKey"))
        }
    }

    @Test func directoryPathThatIsAFileIsRefused() throws {
        let pki = try TestPKI()
        try pki.write("plainfile", "x")
        #expect(throws: SecurityFileError.self) { try StationKeyStore(directory: pki.file("plainfile")) }
    }
}

@Suite struct CertificateSigningRequestTests {
    @Test func ecRequestCarriesSerialNumberAndCpoNameAndVerifies() throws {
        let pki = try TestPKI()
        let key = try StationKey.generate()
        let pem = try CertificateSigningRequest.make(key: key, commonName: "SN-0042", organization: "Example CPO", country: "NL")
        try pki.write("request.csr", pem)
        let subject = try pki.openssl(["req", "-in", "request.csr", "-noout", "-subject", "-nameopt", "RFC2253"])
        #expect(subject.trimmingCharacters(in: .whitespacesAndNewlines) == "subject=CN=SN-0042,O=Example CPO,C=NL")
        #expect(try pki.opensslVerdict(["req", "-in", "request.csr", "-noout", "-verify"]).contains("verify OK"))
        let text = try pki.openssl(["req", "-in", "request.csr", "-noout", "-text"])
        #expect(text.contains("ecdsa-with-SHA256"))
        let publicKey = try pki.openssl(["req", "-in", "request.csr", "-noout", "-pubkey"])
        #expect(publicKey == (try key.publicKeyPEM()))
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----"))
    }

    @Test func aSigningRequestComesWithANewPendingKeyAndLeavesTheActiveOne() throws {
        let pki = try TestPKI()
        let store = try StationKeyStore(directory: pki.file("keys"))
        let active = try store.generateKey(slot: .active)
        let pem = try store.makeSigningRequest(commonName: "SN-0042", organization: "Example CPO")
        try pki.write("request.csr", pem)
        let publicKey = try pki.openssl(["req", "-in", "request.csr", "-noout", "-pubkey"])
        #expect(publicKey == (try store.loadKey(.pending).publicKeyPEM()), "signed with the pending key")
        #expect(try store.loadKey(.active).publicKeyPEM() == (try active.publicKeyPEM()), "the active key is untouched")
        let subject = try pki.openssl(["req", "-in", "request.csr", "-noout", "-subject", "-nameopt", "RFC2253"])
        #expect(subject.trimmingCharacters(in: .whitespacesAndNewlines) == "subject=CN=SN-0042,O=Example CPO")
    }

    @Test func rsaRequestWithoutCountry() throws {
        let pki = try TestPKI()
        let key = try StationKey.generate(.rsa2048)
        let pem = try CertificateSigningRequest.make(key: key, commonName: "CP 7", organization: "Stadtwerke Süd")
        try pki.write("request.csr", pem)
        let subject = try pki.openssl(["req", "-in", "request.csr", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"])
        #expect(subject.trimmingCharacters(in: .whitespacesAndNewlines) == "subject=CN=CP 7,O=Stadtwerke Süd")
        #expect(try pki.opensslVerdict(["req", "-in", "request.csr", "-noout", "-verify"]).contains("verify OK"))
        #expect(try pki.openssl(["req", "-in", "request.csr", "-noout", "-text"]).contains("sha256WithRSAEncryption"))
    }

    @Test func tamperedRequestFailsOpenSSLVerification() throws {
        let pki = try TestPKI()
        let key = try StationKey.generate()
        let pem = try CertificateSigningRequest.make(key: key, commonName: "SN-0042", organization: "Example CPO")
        try pki.write("request.csr", pem)
        try pki.openssl(["req", "-in", "request.csr", "-outform", "DER", "-out", "request.der"])
        var der = try pki.bytes("request.der")
        // "SN-0042" -> "SN-0043": the subject changes under an unchanged signature.
        let target = Array("SN-0042".utf8)
        guard let start = (0...(der.count - target.count)).first(where: { Array(der[$0..<$0 + target.count]) == target }) else {
            Issue.record("CN not found in DER")
            return
        }
        der[start + target.count - 1] = UInt8(ascii: "3")
        try pki.writeBytes("tampered.der", der)
        let verdict = try pki.opensslVerdict(["req", "-in", "tampered.der", "-inform", "DER", "-noout", "-verify"])
        #expect(verdict.contains("verify failure"))
        #expect(!verdict.contains("verify OK"))
    }

    @Test func refusesFieldsOCPPOrX509CannotCarry() throws {
        let key = try StationKey.generate()
        func field(_ commonName: String, _ organization: String, _ country: String?) -> String? {
            do {
                _ = try CertificateSigningRequest.make(key: key, commonName: commonName, organization: organization, country: country)
                return nil
            } catch let error as CertificateSigningRequestError {
                return error.field
            } catch {
                return "other: \(error)"
            }
        }
        #expect(field("", "CPO", nil) == "commonName")
        #expect(field(String(repeating: "x", count: 65), "CPO", nil) == "commonName")
        #expect(field("SN1", "", nil) == "organization")
        #expect(field("SN1", "CPO\n", nil) == "organization")
        #expect(field("SN1", "CPO", "nl") == "country")
        #expect(field("SN1", "CPO", "NLD") == "country")
        #expect(field(String(repeating: "x", count: 64), "CPO", "DE") == nil)
    }
}
