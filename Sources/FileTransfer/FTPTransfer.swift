import NIOCore

/// One FTP session (RFC 959) for one file: log in (USER/PASS from the URL, anonymous
/// otherwise), binary type, change into the URL's directories (RFC 1738: one CWD per
/// segment), passive mode (EPSV, then PASV), then RETR or STOR on a data connection.
struct FTPTransfer {
    let client: FileTransferClient
    let url: FileTransferURL

    typealias ControlChannel = NIOAsyncChannel<FTPReply, ByteBuffer>
    typealias DataChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    func retrieve(into file: DownloadFile, maxBytes: UInt64) async throws(FileTransferError) {
        do {
            try await session { control, name in
                let data = try await openDataConnection(control)
                try await closing(data) { try await control.command("RETR", name, expecting: 1) }
                try await control.pauseTimeout()
                try await data.executeThenClose { inbound, _ in
                    for try await bytes in inbound {
                        guard file.bytesWritten + UInt64(bytes.readableBytes) <= maxBytes else {
                            throw FileTransferError.tooLarge(limit: maxBytes)
                        }
                        try file.write(bytes)
                    }
                }
                try await control.resumeTimeout()
                // 226/250: the server saw the whole file go out.
                try await control.expect(2, after: "RETR")
            }
        } catch {
            file.discard()
            throw FileTransferClient.transferError(error, during: "downloading \(url)")
        }
    }

    func store(_ file: UploadFile) async throws(FileTransferError) {
        do {
            try await session { control, name in
                let data = try await openDataConnection(control)
                try await closing(data) { try await control.command("STOR", name, expecting: 1) }
                try await control.pauseTimeout()
                try await data.executeThenClose { _, outbound in
                    let allocator = data.channel.allocator
                    var sent: UInt64 = 0
                    while let chunk = try file.next(allocator: allocator) {
                        sent += UInt64(chunk.readableBytes)
                        try await outbound.write(chunk)
                    }
                    guard sent == file.size else {
                        throw FileTransferError.localFile("\(file.path) changed size while it was uploaded")
                    }
                }
                try await control.resumeTimeout()
                try await control.expect(2, after: "STOR")
            }
        } catch {
            throw FileTransferClient.transferError(error, during: "uploading to \(url)")
        }
    }

    /// Runs `body`; when it fails the data connection it was preparing is closed.
    private func closing(_ data: DataChannel, _ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            // Through the async channel: its writer must be finished, not just dropped.
            try? await data.executeThenClose { _, _ in }
            throw error
        }
    }

    /// Connects, logs in, changes directory, runs `body` with the file name, says QUIT.
    private func session(_ body: (FTPControl, String) async throws -> Void) async throws {
        var segments = try url.pathSegments
        guard let name = segments.popLast() else { throw FileTransferError.invalidURL("\(url) names no file") }
        let channel: ControlChannel = try await client.connect(
            host: url.host, port: url.port, tls: false, what: "waiting for the FTP server \(url.hostHeader)"
        ) { sync in
            try sync.addHandler(ByteToMessageHandler(FTPReplyDecoder()))
        }
        try await channel.executeThenClose { inbound, outbound in
            let control = FTPControl(channel: channel.channel, replies: inbound.makeAsyncIterator(), writer: outbound)
            try await control.expect(2, after: "connect")
            try await login(control)
            try await control.command("TYPE", "I", expecting: 2)
            for directory in segments { try await control.command("CWD", directory, expecting: 2) }
            try await body(control, name)
            // A polite end; the file is already where it belongs.
            try? await control.send("QUIT", nil)
        }
    }

    private func login(_ control: FTPControl) async throws {
        let user = url.user ?? "anonymous"
        let password = url.user == nil ? client.settings.anonymousFTPPassword : (url.password ?? "")
        let reply = try await control.command("USER", user, expecting: nil)
        switch reply.code {
        case 230: return  // no password needed
        case 331, 332:
            let answer = try await control.command("PASS", password, expecting: nil, logArgument: false)
            if answer.code == 332 {
                throw FileTransferError.ftpReply(command: "PASS", code: 332, text: "the server wants an account (ACCT), which is not supported")
            }
            guard answer.category == 2 else {
                throw FileTransferError.ftpReply(command: "PASS", code: answer.code, text: answer.text)
            }
        default:
            throw FileTransferError.ftpReply(command: "USER \(user)", code: reply.code, text: reply.text)
        }
    }

    /// EPSV (RFC 2428), or PASV when the server does not know EPSV. The data connection goes to
    /// the control connection's host: the address in a PASV reply is ignored (behind NAT it is
    /// often private, and trusting it lets a server aim us elsewhere).
    private func openDataConnection(_ control: FTPControl) async throws -> DataChannel {
        let port: Int
        let extended = try await control.command("EPSV", nil, expecting: nil)
        if extended.code == 229, let p = Self.extendedPassivePort(extended.text) {
            port = p
        } else if extended.category == 5 || extended.code == 229 {
            let passive = try await control.command("PASV", nil, expecting: 2)
            guard passive.code == 227, let p = Self.passivePort(passive.text) else {
                throw FileTransferError.protocolViolation("PASV reply without an address: \(passive)")
            }
            port = p
        } else {
            throw FileTransferError.ftpReply(command: "EPSV", code: extended.code, text: extended.text)
        }
        return try await client.connect(host: url.host, port: port, tls: false,
                                        what: "on the FTP data connection to \(url.host):\(port)") { _ in }
    }

    /// `229 Entering Extended Passive Mode (|||6446|)`: the port between the delimiters.
    static func extendedPassivePort(_ text: String) -> Int? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        let inner = Array(text[text.index(after: open)..<close])
        guard inner.count >= 5, let delimiter = inner.first else { return nil }
        let fields = inner.split(separator: delimiter, omittingEmptySubsequences: false)
        // "|||port|" splits into "", "", "", "port", "".
        guard fields.count == 5, let port = Int(String(fields[3])), (1...65_535).contains(port) else { return nil }
        return port
    }

    /// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` (the parentheses are optional in practice).
    static func passivePort(_ text: String) -> Int? {
        var numbers: [[Character]] = []
        var current: [Character] = []
        for c in text {
            if c.isASCII && c.isNumber {
                current.append(c)
            } else if c == ",", !current.isEmpty {
                numbers.append(current)
                current = []
            } else {
                if !current.isEmpty { numbers.append(current) }
                if numbers.count >= 6 { break }
                numbers = []
                current = []
            }
        }
        if !current.isEmpty { numbers.append(current) }
        let values = numbers.prefix(6).compactMap { Int(String($0)) }
        guard values.count == 6, values.allSatisfy({ (0...255).contains($0) }) else { return nil }
        let port = values[4] * 256 + values[5]
        return port > 0 ? port : nil
    }
}

/// The control connection: commands out, replies in.
final class FTPControl {
    let channel: any Channel
    private var replies: NIOAsyncChannelInboundStream<FTPReply>.AsyncIterator
    private let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>

    init(channel: any Channel, replies: NIOAsyncChannelInboundStream<FTPReply>.AsyncIterator,
         writer: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.channel = channel
        self.replies = replies
        self.writer = writer
    }

    func send(_ verb: String, _ argument: String?) async throws {
        let line = argument.map { "\(verb) \($0)\r\n" } ?? "\(verb)\r\n"
        try await writer.write(channel.allocator.buffer(string: line))
    }

    /// The next final reply (1yz replies are preliminary: they are returned only when
    /// `preliminaryIsFinal`).
    func reply(preliminaryIsFinal: Bool = false) async throws -> FTPReply {
        while true {
            guard let reply = try await replies.next() else {
                throw FileTransferError.connectionClosed("by the FTP server")
            }
            if reply.category == 1 && !preliminaryIsFinal { continue }
            return reply
        }
    }

    /// Sends a command and reads its reply; with `expecting`, a reply of another category
    /// is an error naming the command (the argument left out when it is a password).
    @discardableResult
    func command(_ verb: String, _ argument: String?, expecting category: Int?, logArgument: Bool = true) async throws -> FTPReply {
        try await send(verb, argument)
        let reply = try await reply(preliminaryIsFinal: category == 1)
        if let category, reply.category != category {
            let shown = logArgument ? [verb, argument].compactMap { $0 }.joined(separator: " ") : verb
            throw FileTransferError.ftpReply(command: shown, code: reply.code, text: reply.text)
        }
        return reply
    }

    func expect(_ category: Int, after what: String) async throws {
        let reply = try await reply()
        guard reply.category == category else {
            throw FileTransferError.ftpReply(command: what, code: reply.code, text: reply.text)
        }
    }

    func pauseTimeout() async throws { try await channel.triggerUserOutboundEvent(PauseInactivityTimeout()).get() }
    func resumeTimeout() async throws { try await channel.triggerUserOutboundEvent(ResumeInactivityTimeout()).get() }
}
