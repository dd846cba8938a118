import Foundation
@testable import OCPPSecurity

struct CommandFailure: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let standardError: String
    var description: String { "\(command) exited \(status): \(standardError)" }
}

/// A temporary directory where the `openssl` CLI makes the test CAs, certificates and
/// signatures, so the Swift code is checked against an independent implementation.
final class TestPKI: @unchecked Sendable {
    let path: String

    enum KeyKind {
        case ec
        case rsa
    }

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/ocppsecurity-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try write("openssl.cnf", """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = placeholder
        [v3_ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always
        [v3_leaf]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature,keyEncipherment
        extendedKeyUsage = clientAuth,serverAuth,codeSigning
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        subjectAltName = DNS:csms.example.test
        [v3_ip]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1,IP:::1
        [v3_server_only]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:csms.example.test

        """)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: file(name)))) }

    func writeBytes(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }

    func mode(of absolutePath: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: absolutePath)
        return ((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1) & 0o777
    }

    @discardableResult
    func openssl(_ arguments: [String]) throws -> String {
        let (status, output, errors) = try runOpenSSL(arguments)
        guard status == 0 else {
            throw CommandFailure(command: "openssl " + arguments.joined(separator: " "), status: status, standardError: errors)
        }
        return output
    }

    /// `openssl req -verify` exits 0 even when the signature is bad (OpenSSL 3.0); its verdict is
    /// only in the text, so verification checks read both streams.
    func opensslVerdict(_ arguments: [String]) throws -> String {
        let (_, output, errors) = try runOpenSSL(arguments)
        return output + errors
    }

    private func runOpenSSL(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    private func keyArguments(_ kind: KeyKind) -> [String] {
        switch kind {
        case .ec: return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        case .rsa: return ["-newkey", "rsa:2048"]
        }
    }

    /// Self-signed CA valid from now for `days`; returns its PEM. Files: <name>.pem, <name>.key.
    @discardableResult
    func makeRoot(_ name: String, days: Int = 30, key: KeyKind = .ec, serial: String = "0x0102") throws -> String {
        try openssl(["req", "-x509", "-config", "openssl.cnf", "-extensions", "v3_ca"] + keyArguments(key) +
                    ["-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/O=SwiftEVSE Test/CN=\(name)",
                     "-days", String(days), "-set_serial", serial, "-sha256"])
        return try read(name + ".pem")
    }

    /// A certificate for a new key, issued by `issuer` (a name made by makeRoot/makeCertificate).
    @discardableResult
    func makeCertificate(_ name: String, issuer: String, days: Int = 1, key: KeyKind = .ec,
                         extensions: String = "v3_leaf", serial: String = "0x00ab12") throws -> String {
        try openssl(["req", "-new", "-config", "openssl.cnf"] + keyArguments(key) +
                    ["-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/O=SwiftEVSE Test/CN=\(name)"])
        return try sign(csr: name + ".csr", as: name, issuer: issuer, days: days, extensions: extensions, serial: serial)
    }

    /// Issues a certificate for the CSR file `csr`; writes <name>.pem.
    @discardableResult
    func sign(csr: String, as name: String, issuer: String, days: Int = 1, extensions: String = "v3_leaf",
              serial: String = "0x00ab12") throws -> String {
        try openssl(["x509", "-req", "-in", csr, "-CA", issuer + ".pem", "-CAkey", issuer + ".key",
                     "-set_serial", serial, "-days", String(days), "-extfile", "openssl.cnf",
                     "-extensions", extensions, "-sha256", "-out", name + ".pem"])
        return try read(name + ".pem")
    }

    /// OpenSSL's own view of the OCSP CertID for `certificate` issued by `issuer` (SHA-256).
    func openSSLCertificateID(_ certificate: String, issuer: String) throws -> (nameHash: String, keyHash: String, serial: String) {
        let text = try openssl(["ocsp", "-issuer", issuer + ".pem", "-sha256", "-cert", certificate + ".pem",
                                "-no_nonce", "-req_text", "-reqout", "/dev/null"])
        func value(_ label: String) -> String {
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(label + ":") {
                    return String(trimmed.dropFirst(label.count + 1)).trimmingCharacters(in: .whitespaces)
                }
            }
            return "missing \(label)"
        }
        return (value("Issuer Name Hash"), value("Issuer Key Hash"), value("Serial Number"))
    }

    /// DER of `name`.pem with one byte changed, `offsetFromEnd` bytes before the end.
    func tamperedDER(_ name: String, offsetFromEnd: Int = 1) throws -> [UInt8] {
        try openssl(["x509", "-in", name + ".pem", "-outform", "DER", "-out", name + ".der"])
        var der = try bytes(name + ".der")
        der[der.count - offsetFromEnd] ^= 0x01
        return der
    }

    var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
