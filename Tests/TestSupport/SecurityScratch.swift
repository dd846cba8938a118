import Foundation

/// A scratch directory with an openssl-made CA (certificates are made now, so the charge
/// point under test reads the real clock).
public final class SecurityScratch: Sendable {
    public let directory: String

    public init() throws {
        directory = NSTemporaryDirectory() + "ocpp16-security-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @discardableResult
    public func openssl(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ScratchError("openssl \(arguments.first ?? "") failed") }
        return String(decoding: data, as: UTF8.self)
    }

    public func path(_ name: String) -> String { directory + "/" + name }

    public func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    public func write(_ name: String, _ text: String) throws { try text.write(toFile: path(name), atomically: true, encoding: .utf8) }

    /// A self-signed CA certificate and key named `<name>.pem` / `<name>.key`.
    public func makeCA(_ name: String) throws -> String {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "30", "-subj", "/CN=\(name)",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return try read("\(name).pem")
    }

    /// Signs a CSR with the CA as a TLS client certificate.
    public func sign(csr: String, ca: String) throws -> String {
        try write("request.csr", csr)
        try write("client.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        try openssl(["x509", "-req", "-in", "request.csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
                     "-days", "10", "-sha256", "-extfile", "client.ext", "-out", "client.pem"])
        return try read("client.pem")
    }
}

public struct ScratchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

