import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Locking
import Synchronization
@testable import FileTransfer

/// A scratch directory for one test.
struct Scratch {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "filetransfer-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func read(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(name)).map { Array($0) }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Bytes that are not all the same, so a misplaced chunk shows.
func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) } }

/// An HTTP/1.1 server on 127.0.0.1 (optionally TLS) answering every request with what `reply`
/// says, and recording what it got.
final class TestHTTPServer: Sendable {
    enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [])
        /// Transfer-Encoding: chunked, these chunks.
        case chunked([[UInt8]])
        /// Announces `declared` bytes, sends `sent`, closes.
        case truncated(declared: Int, sent: [UInt8])
        /// Reads the request and never answers.
        case silent
    }

    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel = Mutex<(any Channel)?>(nil)
    let received = Mutex<[Request]>([])

    var port: Int { channel.locked { $0?.localAddress?.port ?? 0 } }
    var requests: [Request] { received.locked { $0 } }

    init(tls: NIOSSLContext? = nil, reply: @escaping @Sendable (Request) -> Reply) async throws {
        let server = self
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.configureHTTPServerPipeline()
                    try sync.addHandler(HTTPTestHandler(server: server, reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.locked { $0 = bound }
    }

    /// Once; a second call does nothing.
    func shutdown() async {
        guard let bound = channel.locked({ c -> (any Channel)? in defer { c = nil }; return c }) else { return }
        try? await bound.close()
        try? await group.shutdownGracefully()
    }
}

private final class HTTPTestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: TestHTTPServer
    let reply: @Sendable (TestHTTPServer.Request) -> TestHTTPServer.Reply
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(server: TestHTTPServer, reply: @escaping @Sendable (TestHTTPServer.Request) -> TestHTTPServer.Reply) {
        self.server = server
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(let bytes):
            body += Array(bytes.readableBytesView)
        case .end:
            guard let head else { return }
            let request = TestHTTPServer.Request(method: head.method.rawValue, uri: head.uri,
                                                 headers: head.headers.map { ($0.name, $0.value) }, body: body)
            server.received.locked { $0.append(request) }
            answer(context, reply(request))
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ reply: TestHTTPServer.Reply) {
        func buffer(_ bytes: [UInt8]) -> IOData { .byteBuffer(context.channel.allocator.buffer(bytes: bytes)) }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        switch reply {
        case let .respond(status, extra, body):
            var headers = HTTPHeaders(extra)
            headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            headers.replaceOrAdd(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
            if !body.isEmpty { context.write(wrapOutboundOut(.body(buffer(body))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        case .chunked(let chunks):
            let headers = HTTPHeaders([("Transfer-Encoding", "chunked"), ("Connection", "close")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            for chunk in chunks { context.write(wrapOutboundOut(.body(buffer(chunk))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        case let .truncated(declared, sent):
            let headers = HTTPHeaders([("Content-Length", String(declared))])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(buffer(sent)))).whenComplete { _ in bound.value.close(promise: nil) }
        case .silent:
            break
        }
    }
}

/// An FTP server on 127.0.0.1 (RFC 959, passive only) over an in-memory file system, with
/// the knobs the client's paths need: a multi-line greeting, credentials, no EPSV, a PASV
/// address that is not the server's (which the client must ignore).
final class TestFTPServer: Sendable {
    struct Options: Sendable {
        var user = "anonymous"
        /// nil: any password.
        var password: String? = nil
        var supportsEPSV = true
        var multiLineGreeting = true
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let listener = Mutex<NIOAsyncChannel<NIOAsyncChannel<FTPLine, ByteBuffer>, Never>?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Path (with a leading "/") → contents.
    let files = Mutex<[String: [UInt8]]>([:])
    let commands = Mutex<[String]>([])
    let options: Options

    var port: Int { listener.locked { $0?.channel.localAddress?.port ?? 0 } }
    var log: [String] { commands.locked { $0 } }

    init(_ options: Options = Options()) async throws {
        self.options = options
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(FTPLineDecoder()))
                    return try NIOAsyncChannel<FTPLine, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        listener.locked { $0 = channel }
        let server = self
        task.locked { $0 = Task {
            try? await channel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { try? await server.serve(connection) }
                    }
                }
            }
        } }
    }

    func shutdown() async {
        task.locked { $0 }?.cancel()
        try? await listener.locked { $0 }?.channel.close()
        try? await group.shutdownGracefully()
    }

    private func serve(_ connection: NIOAsyncChannel<FTPLine, ByteBuffer>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            func say(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text + "\r\n")) }
            if options.multiLineGreeting {
                try await say("220-Welcome to the test server")
                try await say("   a continuation line that does not start with the code")
                try await say("220 ready")
            } else {
                try await say("220 ready")
            }
            var user: String?
            var loggedIn = false
            var cwd = ""
            var passive: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>?
            for try await line in inbound {
                let parts = line.text.split(separator: " ", maxSplits: 1)
                let verb = parts.first.map { String($0).uppercased() } ?? ""
                let argument = parts.count > 1 ? String(parts[1]) : ""
                commands.locked { $0.append(verb == "PASS" ? "PASS ***" : line.text) }
                switch verb {
                case "USER":
                    user = argument
                    try await say("331 Password required for \(argument)")
                case "PASS":
                    if user == options.user, options.password == nil || options.password == argument {
                        loggedIn = true
                        try await say("230 Logged in")
                    } else {
                        try await say("530 Login incorrect")
                    }
                case "QUIT":
                    try await say("221 Goodbye")
                    return
                case _ where !loggedIn:
                    try await say("530 Please log in first")
                case "TYPE":
                    try await say("200 Type set to \(argument)")
                case "CWD":
                    cwd += "/" + argument
                    try await say("250 Directory changed to \(cwd)")
                case "EPSV" where options.supportsEPSV, "PASV":
                    let data = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0) { child in
                        child.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child) }
                    }
                    passive = data
                    let port = data.channel.localAddress?.port ?? 0
                    if verb == "EPSV" {
                        try await say("229 Entering Extended Passive Mode (|||\(port)|)")
                    } else {
                        try await say("227 Entering Passive Mode (10,99,99,99,\(port / 256),\(port % 256))")
                    }
                case "RETR", "STOR":
                    guard let listener = passive else {
                        try await say("425 Use PASV or EPSV first")
                        continue
                    }
                    passive = nil
                    let path = cwd + "/" + argument
                    if verb == "RETR", files.locked({ $0[path] }) == nil {
                        // The client connected already: that connection is closed unused.
                        try await listener.executeThenClose { connections in
                            var incoming = connections.makeAsyncIterator()
                            try await incoming.next()?.executeThenClose { _, _ in }
                        }
                        try await say("550 \(path): No such file or directory")
                        continue
                    }
                    try await say(verb == "RETR" ? "150 Opening BINARY mode data connection" : "150 Ok to send data")
                    let server = self
                    try await listener.executeThenClose { connections in
                        var incoming = connections.makeAsyncIterator()
                        guard let data = try await incoming.next() else { throw ChannelError.eof }
                        if verb == "RETR" {
                            let contents = server.files.locked { $0[path] } ?? []
                            try await data.executeThenClose { _, out in
                                var offset = 0
                                while offset < contents.count {
                                    let end = min(contents.count, offset + 16_384)
                                    try await out.write(ByteBuffer(bytes: contents[offset..<end]))
                                    offset = end
                                }
                            }
                        } else {
                            var received: [UInt8] = []
                            try await data.executeThenClose { inbound, _ in
                                for try await chunk in inbound { received += Array(chunk.readableBytesView) }
                            }
                            server.files.locked { $0[path] = received }
                        }
                    }
                    try await say("226 Transfer complete")
                default:
                    try await say("502 Command not implemented")
                }
            }
        }
    }
}

struct FTPLine: Sendable { var text: String }

/// The server's side: one command per CRLF line.
struct FTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = FTPLine
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = try FTPReplyDecoder.readLine(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(FTPLine(text: line)))
        return .continue
    }
}

/// A CA and a server certificate for localhost, made with the openssl CLI, plus one for
/// another host name.
struct TestCertificates {
    let scratch: Scratch

    init(_ scratch: Scratch) throws {
        self.scratch = scratch
        let script = """
        set -e
        cd "\(scratch.directory)"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout root.key -out root.pem \
          -days 2 -subj "/CN=Test Root" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -out $1.csr -subj "/CN=$2"
          printf "basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\nsubjectAltName=DNS:$2\\n" > $1.ext
          openssl x509 -req -in $1.csr -CA root.pem -CAkey root.key -CAcreateserial -out $1.pem -days 2 -extfile $1.ext; }
        leaf server localhost
        leaf wronghost wrong.example
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FileTransferError.localFile("openssl failed") }
    }

    var rootPEM: [UInt8] { scratch.read("root.pem") ?? [] }

    func serverContext(_ name: String = "server") throws -> NIOSSLContext {
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(scratch.path("\(name).pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: scratch.path("\(name).key"), format: .pem)))
        return try NIOSSLContext(configuration: tls)
    }
}
