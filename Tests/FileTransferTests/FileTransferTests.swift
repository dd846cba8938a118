import Foundation
import Locking
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing
@testable import FileTransfer

@Suite("File transfer URLs")
struct FileTransferURLTests {
    @Test func partsArePercentDecodedAndThePasswordNeverShown() throws {
        let url = try FileTransferURL("ftp://us%40er:p%3Ass@[::1]:2121/logs/today/")
        #expect(url.scheme == .ftp)
        #expect(url.user == "us@er")
        #expect(url.password == "p:ss")
        #expect(url.host == "::1")
        #expect(url.port == 2121)
        #expect(try url.pathSegments == ["logs", "today"])
        #expect(!url.description.contains("p:ss") && !url.description.contains("p%3Ass"))
        #expect(FileTransferURL.redacted("ftp://u:secret@h/x") == "ftp://u:***@h/x")
        let http = try FileTransferURL("HTTPS://example.net/fw?sig=1")
        #expect(http.scheme == .https && http.port == 443 && http.requestTarget == "/fw?sig=1")
        #expect(try FileTransferURL("http://h").requestTarget == "/")
    }

    @Test func aFileNameGoesInsideTheLocation() throws {
        #expect(try FileTransferURL("http://h/up").appending(fileName: "a b.tar").requestTarget == "/up/a%20b.tar")
        #expect(try FileTransferURL("http://h/up/").appending(fileName: "x.tar").requestTarget == "/up/x.tar")
        #expect(try FileTransferURL("http://h").appending(fileName: "x.tar").requestTarget == "/x.tar")
        #expect(try FileTransferURL("ftp://h/a/b").appending(fileName: "x.tar").pathSegments == ["a", "b", "x.tar"])
    }

    @Test func badLocationsAreRefusedWithTheirReason() {
        func error(_ text: String) -> FileTransferError? {
            do { _ = try FileTransferURL(text); return nil } catch { return error }
        }
        #expect(error("sftp://h/x") == .unsupportedScheme("sftp"))
        #expect(error("just-a-path") != nil)
        #expect(error("http:///x") != nil, "no host")
        #expect(error("http://h:99999/x") != nil, "port out of range")
        #expect(error("ftp://h/a%0D%0ADELE%20x") != nil, "a line break smuggled into an FTP command")
        #expect(error("ftp://h/%zz") != nil, "bad escape")
        #expect(error("http://h/a b") != nil, "spaces must be encoded")
    }
}

@Suite("FTP replies")
struct FTPReplyTests {
    func replies(_ text: String) throws -> [FTPReply] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FTPReplyDecoder()))
        try channel.writeInbound(ByteBuffer(string: text))
        var out: [FTPReply] = []
        while let r = try channel.readInbound(as: FTPReply.self) { out.append(r) }
        return out
    }

    @Test func singleAndMultiLineReplies() throws {
        let r = try replies("220-Welcome\r\n more text\r\n220-still\r\n220 ready\r\n331 Password\n230 Logged in\r\n150")
        #expect(r.map(\.code) == [220, 331, 230], "the reply without its line end waits")
        #expect(r[0].lines.count == 4)
        #expect(r[0].text.hasPrefix("Welcome") && r[0].text.hasSuffix("ready"))
        #expect(r[1].text == "Password", "a bare LF ends a line too")
        #expect(r[2].category == 2)
    }

    @Test func aMultiLineReplyEndsOnlyAtItsOwnCode() throws {
        let r = try replies("211-Features:\r\n 211 not the end (leading space)\r\n226-other code\r\n211 End\r\n")
        #expect(r.count == 1 && r[0].code == 211 && r[0].lines.count == 4)
    }

    @Test func garbageIsAProtocolViolation() {
        #expect(throws: FileTransferError.self) { try replies("hello there\r\n") }
        #expect(throws: FileTransferError.self) { try replies(String(repeating: "x", count: 9_000)) }
    }

    @Test func passivePortsFromEPSVAndPASV() {
        #expect(FTPTransfer.extendedPassivePort("Entering Extended Passive Mode (|||6446|)") == 6446)
        #expect(FTPTransfer.extendedPassivePort("Entering Extended Passive Mode (!!!21!)") == 21)
        #expect(FTPTransfer.extendedPassivePort("Entering Extended Passive Mode (|||x|)") == nil)
        #expect(FTPTransfer.passivePort("Entering Passive Mode (192,168,1,2,19,137)") == 19 * 256 + 137)
        #expect(FTPTransfer.passivePort("Entering Passive Mode 192,168,1,2,0,21") == 21)
        #expect(FTPTransfer.passivePort("Entering Passive Mode (192,168,1,2,300,1)") == nil)
        #expect(FTPTransfer.passivePort("nothing here") == nil)
    }

    @Test func failuresAreClassifiedForOCPP() {
        #expect(FileTransferError.httpStatus(code: 403, reason: "Forbidden").kind == .permissionDenied)
        #expect(FileTransferError.ftpReply(command: "STOR x", code: 553, text: "no").kind == .permissionDenied)
        #expect(FileTransferError.httpStatus(code: 405, reason: "Method Not Allowed").kind == .notSupported)
        #expect(FileTransferError.ftpReply(command: "EPSV", code: 502, text: "no").kind == .notSupported)
        #expect(FileTransferError.protocolViolation("x").kind == .badMessage)
        #expect(FileTransferError.connectFailed("x").kind == .other)
    }
}

@Suite("ustar archives")
struct TarArchiveTests {
    @Test func tarListsAndExtractsWhatWasWritten() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let big = pattern(70_000)
        let source = try scratch.write("source.bin", big)
        let tar = try TarArchiveWriter(path: scratch.path("a.tar"))
        try tar.add(name: "station.txt", text: "serial = S1\n", modifiedAt: 1_767_225_600)
        try tar.addFile(name: "frames.log", from: source)
        try tar.add(name: "empty.txt", bytes: [], modifiedAt: 0)
        let longName = String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60) + ".txt"
        try tar.add(name: longName, text: "long", modifiedAt: 0)
        try tar.finish()
        #expect(tar.bytesWritten % 512 == 0)

        // GNU tar reads it: a reader we did not write.
        let out = scratch.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-xf", scratch.path("a.tar"), "-C", out]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.contents(atPath: out + "/station.txt") == Data("serial = S1\n".utf8))
        #expect(FileManager.default.contents(atPath: out + "/frames.log").map(Array.init) == big)
        #expect(FileManager.default.contents(atPath: out + "/empty.txt") == Data())
        #expect(FileManager.default.contents(atPath: out + "/" + longName) == Data("long".utf8))
    }

    @Test func namesThatDoNotFitAreRefused() {
        #expect(throws: FileTransferError.self) {
            _ = try TarArchiveWriter.header(name: String(repeating: "x", count: 101), size: 0, modifiedAt: 0)
        }
        #expect(throws: FileTransferError.self) { _ = try TarArchiveWriter.header(name: "", size: 0, modifiedAt: 0) }
    }
}

@Suite("HTTP(S) transfers", .serialized)
struct HTTPTransferTests {
    /// Generous bounds by default: a full test run on two cores can keep the in-process test
    /// server from answering for seconds (a 5 s bound failed a passing download once). The test
    /// of the timeout itself passes its own short one.
    func client(inactivity: TimeAmount = .seconds(30), roots: [UInt8]? = nil) -> FileTransferClient {
        var settings = FileTransferSettings()
        settings.inactivityTimeout = inactivity
        settings.connectTimeout = .seconds(10)
        if let roots { settings.additionalTrustRoots = { [roots] } }
        return FileTransferClient(settings: settings)
    }

    func downloadError(_ client: FileTransferClient, _ url: String, to path: String, maxBytes: UInt64 = 1 << 20) async -> FileTransferError? {
        do throws(FileTransferError) {
            _ = try await client.download(url, to: path, maxBytes: maxBytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func downloadsStreamToTheFileWithContentLengthOrChunked() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let body = pattern(300_000)
        let server = try await TestHTTPServer { request in
            request.uri == "/chunked" ? .chunked([Array(body[0..<1000]), Array(body[1000...])]) : .respond(status: 200, body: body)
        }
        defer { Task { await server.shutdown() } }
        let bytes = try await client().download("http://127.0.0.1:\(server.port)/fw/image.bin", to: scratch.path("a.bin"), maxBytes: 1 << 20)
        #expect(bytes == 300_000)
        #expect(scratch.read("a.bin") == body)
        #expect(!scratch.exists("a.bin.part"))
        #expect(server.requests.first?.uri == "/fw/image.bin")
        #expect(server.requests.first?.header("Host") == "127.0.0.1:\(server.port)")
        _ = try await client().download("http://127.0.0.1:\(server.port)/chunked", to: scratch.path("b.bin"), maxBytes: 1 << 20)
        #expect(scratch.read("b.bin") == body)
    }

    @Test func eachFailureHasItsOwnErrorAndLeavesNoFile() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await TestHTTPServer { request in
            switch request.uri {
            case "/missing": return .respond(status: 404)
            case "/big": return .respond(status: 200, body: pattern(5_000))
            case "/cut": return .truncated(declared: 10_000, sent: pattern(100))
            case "/hang": return .silent
            case "/loop": return .respond(status: 302, headers: [("Location", "/loop")])
            default: return .respond(status: 500)
            }
        }
        defer { Task { await server.shutdown() } }
        let base = "http://127.0.0.1:\(server.port)"
        let target = scratch.path("x.bin")
        #expect(await downloadError(client(), base + "/missing", to: target) == .httpStatus(code: 404, reason: "Not Found"))
        let big = await downloadError(client(), base + "/big", to: target, maxBytes: 4_096)
        #expect(big == .tooLarge(limit: 4_096), "\(String(describing: big))")
        let cut = await downloadError(client(), base + "/cut", to: target)
        guard case .connectionClosed = cut else { Issue.record("truncated body: \(String(describing: cut))"); return }
        let hang = await downloadError(client(inactivity: .milliseconds(200)), base + "/hang", to: target)
        guard case .timeout = hang else { Issue.record("silent server: \(String(describing: hang))"); return }
        #expect(await downloadError(client(), base + "/loop", to: target) == .tooManyRedirects(5))
        #expect(!scratch.exists("x.bin") && !scratch.exists("x.bin.part"))
        await server.shutdown()
        let refused = await downloadError(client(), base + "/missing", to: target)
        guard case .connectFailed = refused else { Issue.record("nobody listening: \(String(describing: refused))"); return }
    }

    @Test func redirectsAreFollowed() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await TestHTTPServer { request in
            request.uri == "/old" ? .respond(status: 301, headers: [("Location", "/new")]) : .respond(status: 200, body: [1, 2, 3])
        }
        defer { Task { await server.shutdown() } }
        _ = try await client().download("http://127.0.0.1:\(server.port)/old", to: scratch.path("r.bin"), maxBytes: 100)
        #expect(scratch.read("r.bin") == [1, 2, 3])
        #expect(server.requests.map(\.uri) == ["/old", "/new"])
    }

    @Test func uploadIsAPutIntoTheLocationWithBasicAuth() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let body = pattern(200_000)
        let file = try scratch.write("diag.tar", body)
        let server = try await TestHTTPServer { request in
            request.uri.hasPrefix("/denied") ? .respond(status: 403) : .respond(status: 201)
        }
        defer { Task { await server.shutdown() } }
        try await client().upload(file, to: "http://cp%201:s%3Acret@127.0.0.1:\(server.port)/uploads/", as: "diag.tar")
        let put = try #require(server.requests.first)
        #expect(put.method == "PUT")
        #expect(put.uri == "/uploads/diag.tar")
        #expect(put.body == body)
        #expect(put.header("Authorization") == "Basic " + Data("cp 1:s:cret".utf8).base64EncodedString())
        do throws(FileTransferError) {
            try await client().upload(file, to: "http://127.0.0.1:\(server.port)/denied", as: "diag.tar")
            Issue.record("a 403 is a failure")
        } catch {
            #expect(error == .httpStatus(code: 403, reason: "Forbidden"))
            #expect(error.kind == .permissionDenied)
        }
    }

    @Test func httpsTrustsTheGivenRootsAndChecksTheHostName() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try TestCertificates(scratch)
        let good = try await TestHTTPServer(tls: try pki.serverContext()) { _ in .respond(status: 200, body: [42]) }
        let wrongHost = try await TestHTTPServer(tls: try pki.serverContext("wronghost")) { _ in .respond(status: 200, body: [42]) }
        defer { Task { await good.shutdown(); await wrongHost.shutdown() } }
        _ = try await client(roots: pki.rootPEM).download("https://localhost:\(good.port)/f", to: scratch.path("ok.bin"), maxBytes: 10)
        #expect(scratch.read("ok.bin") == [42])
        let untrusted = await downloadError(client(), "https://localhost:\(good.port)/f", to: scratch.path("no.bin"))
        guard case .tlsFailed = untrusted else { Issue.record("untrusted root: \(String(describing: untrusted))"); return }
        let mismatch = await downloadError(client(roots: pki.rootPEM), "https://localhost:\(wrongHost.port)/f", to: scratch.path("no.bin"))
        guard case .tlsFailed = mismatch else { Issue.record("wrong host name: \(String(describing: mismatch))"); return }
        #expect(!scratch.exists("no.bin"))
    }
}

@Suite("FTP transfers", .serialized)
struct FTPTransferTests {
    let client = FileTransferClient(settings: {
        var s = FileTransferSettings()
        s.inactivityTimeout = .seconds(5)
        return s
    }())

    @Test func retrieveAndStoreWithEPSV() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await TestFTPServer(.init(user: "evse", password: "pw"))
        defer { Task { await server.shutdown() } }
        let image = pattern(150_000)
        server.files.locked { $0["/fw/v2/image.bin"] = image }
        let bytes = try await client.download("ftp://evse:pw@127.0.0.1:\(server.port)/fw/v2/image.bin", to: scratch.path("i.bin"), maxBytes: 1 << 20)
        #expect(bytes == 150_000)
        #expect(scratch.read("i.bin") == image)
        #expect(server.log.prefix(6) == ["USER evse", "PASS ***", "TYPE I", "CWD fw", "CWD v2", "EPSV"])
        #expect(server.log.contains("RETR image.bin"))

        let upload = try scratch.write("d.tar", pattern(80_000))
        try await client.upload(upload, to: "ftp://evse:pw@127.0.0.1:\(server.port)/diag", as: "d.tar")
        #expect(server.files.locked { $0["/diag/d.tar"] } == pattern(80_000))
    }

    @Test func pasvWhenEPSVIsUnknownAndItsAddressIsIgnored() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await TestFTPServer(.init(supportsEPSV: false, multiLineGreeting: false))
        defer { Task { await server.shutdown() } }
        server.files.locked { $0["/x.bin"] = [9, 8, 7] }
        _ = try await client.download("ftp://127.0.0.1:\(server.port)/x.bin", to: scratch.path("x.bin"), maxBytes: 10)
        #expect(scratch.read("x.bin") == [9, 8, 7], "connected to the control host, not the 10.99.99.99 of the reply")
        #expect(server.log.prefix(2) == ["USER anonymous", "PASS ***"])
        #expect(server.log.contains("PASV"))
    }

    @Test func refusalsNameTheCommandAndTheReply() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await TestFTPServer(.init(user: "evse", password: "pw"))
        defer { Task { await server.shutdown() } }
        func failure(_ url: String) async -> FileTransferError? {
            do throws(FileTransferError) {
                _ = try await client.download(url, to: scratch.path("f.bin"), maxBytes: 100)
                return nil
            } catch { return error }
        }
        let login = await failure("ftp://evse:wrong@127.0.0.1:\(server.port)/f.bin")
        #expect(login == .ftpReply(command: "PASS", code: 530, text: "Login incorrect"))
        #expect(login?.kind == .permissionDenied)
        let missing = await failure("ftp://evse:pw@127.0.0.1:\(server.port)/nope.bin")
        guard case .ftpReply("RETR nope.bin", 550, _) = missing else { Issue.record("missing file: \(String(describing: missing))"); return }
        server.files.locked { $0["/big.bin"] = pattern(1_000) }
        #expect(await failure("ftp://evse:pw@127.0.0.1:\(server.port)/big.bin") == .tooLarge(limit: 100))
        #expect(!scratch.exists("f.bin") && !scratch.exists("f.bin.part"))
    }
}
