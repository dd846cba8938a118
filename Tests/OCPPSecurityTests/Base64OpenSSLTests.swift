import Codecs
import Foundation
import Testing

/// Our base64 against what the OpenSSL command line writes (wrapped at 64 columns, and not).
@Suite struct Base64OpenSSLTests {
    @Test func decodesWhatTheOpenSSLCLIEncodes() throws {
        let pki = try TestPKI()
        try pki.openssl(["rand", "-out", "random.bin", "301"])
        let wrapped = try pki.openssl(["base64", "-in", "random.bin"])
        #expect(wrapped.contains("\n"))
        let random = try pki.bytes("random.bin")
        #expect(try Base64.decode(wrapped) == random)
        let oneLine = try pki.openssl(["base64", "-A", "-in", "random.bin"])
        #expect(Base64.encode(random) == oneLine.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
