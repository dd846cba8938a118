import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Moves a file between the station and a server the CSMS named: firmware down, diagnostics
/// and logs up. The OCPP services take one of these; tests substitute an in-memory one.
public protocol FileTransferring: Sendable {
    /// Downloads `url` to `path` (written as `<path>.part`, renamed when complete); returns the
    /// number of bytes. Nothing is left at `path` when it fails.
    func download(_ url: String, to path: String, maxBytes: UInt64) async throws(FileTransferError) -> UInt64
    /// Uploads the file at `path` as `<directoryURL>/<fileName>` (HTTP PUT or FTP STOR).
    func upload(_ path: String, to directoryURL: String, as fileName: String) async throws(FileTransferError)
}

/// How long to wait and what to trust.
public struct FileTransferSettings: Sendable {
    public var connectTimeout: TimeAmount = .seconds(15)
    /// A connection on which nothing moved for this long is given up.
    public var inactivityTimeout: TimeAmount = .seconds(60)
    public var maxRedirects = 5
    /// PEM certificates trusted for HTTPS besides the system's roots (the installed
    /// CentralSystemRootCertificates), asked for at every connection so a newly installed
    /// certificate counts at once.
    public var additionalTrustRoots: @Sendable () -> [[UInt8]] = { [] }
    /// The anonymous FTP password (RFC 1635: an e-mail-like identification).
    public var anonymousFTPPassword = "swiftevse@"

    public init() {}
}

/// HTTP(S) and FTP on swift-nio: streamed to and from disk, with timeouts, a size limit and
/// one error per way a transfer fails.
public struct FileTransferClient: FileTransferring {
    public static let supportedSchemes = FileTransferURL.Scheme.allCases.map(\.rawValue)

    public let settings: FileTransferSettings
    let group: any EventLoopGroup

    public init(settings: FileTransferSettings = FileTransferSettings(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.group = group
    }

    public func download(_ url: String, to path: String, maxBytes: UInt64) async throws(FileTransferError) -> UInt64 {
        var location = try FileTransferURL(url)
        var redirects = 0
        while true {
            let file = try DownloadFile(path: path)
            let outcome: HTTPTransfer.DownloadOutcome
            switch location.scheme {
            case .ftp:
                try await FTPTransfer(client: self, url: location).retrieve(into: file, maxBytes: maxBytes)
                outcome = .complete
            case .http, .https:
                outcome = try await HTTPTransfer(client: self, url: location).get(into: file, maxBytes: maxBytes)
            }
            switch outcome {
            case .complete:
                try file.commit()
                return file.bytesWritten
            case .redirect(let target):
                file.discard()
                redirects += 1
                guard redirects <= settings.maxRedirects else { throw .tooManyRedirects(settings.maxRedirects) }
                location = try HTTPTransfer.resolve(target, against: location)
                guard location.scheme != .ftp else { throw .protocolViolation("redirected from HTTP to FTP") }
            }
        }
    }

    public func upload(_ path: String, to directoryURL: String, as fileName: String) async throws(FileTransferError) {
        guard !fileName.isEmpty, !fileName.contains("/") else { throw .invalidURL("file name \"\(fileName)\"") }
        let target = try FileTransferURL(directoryURL).appending(fileName: fileName)
        let file = try UploadFile(path: path)
        switch target.scheme {
        case .ftp: try await FTPTransfer(client: self, url: target).store(file)
        case .http, .https: try await HTTPTransfer(client: self, url: target).put(file)
        }
    }

    // MARK: Connections

    /// A TCP (and for `tlsHost`, TLS) connection with the inactivity timer in front of the
    /// protocol handlers `configure` adds.
    func connect<Inbound: Sendable, Outbound: Sendable>(
        host: String, port: Int, tls: Bool, what: String,
        configure: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws(FileTransferError) -> NIOAsyncChannel<Inbound, Outbound> {
        let sslContext: NIOSSLContext? = tls ? try makeSSLContext() : nil
        let timeout = settings.inactivityTimeout
        let sniHost = Self.isIPAddress(host) ? nil : host
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(settings.connectTimeout)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if let sslContext {
                            try sync.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: sniHost))
                        }
                        try sync.addHandler(InactivityTimeoutHandler(timeout: timeout, what: what))
                        try configure(sync)
                        return try NIOAsyncChannel<Inbound, Outbound>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Self.transferError(error, connecting: "\(host):\(port)")
        }
    }

    func makeSSLContext() throws(FileTransferError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        tls.trustRoots = .default
        do {
            var extra: [NIOSSLCertificate] = []
            for pem in settings.additionalTrustRoots() { extra += try NIOSSLCertificate.fromPEMBytes(pem) }
            if !extra.isEmpty { tls.additionalTrustRoots = [.certificates(extra)] }
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw .tlsFailed("cannot set up TLS: \(error)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// NIO's and NIOSSL's errors in the terms of a transfer.
    static func transferError(_ error: any Error, connecting: String? = nil, during: String = "") -> FileTransferError {
        if let e = error as? FileTransferError { return e }
        if error is CancellationError { return .cancelled }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return .tlsFailed("\(error)")
        }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout: return .timeout("connecting to \(connecting ?? "the server")")
            case .ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed, .inputClosed:
                return .connectionClosed(during)
            default: break
            }
        }
        if let e = error as? HTTPParserError {
            if e == .invalidEOFState { return .connectionClosed("in the middle of the HTTP response") }
            return .protocolViolation("HTTP response: \(e)")
        }
        if let e = error as? NIOConnectionError {
            let reason = e.connectionErrors.first.map { "\($0.error)" }
                ?? (e.dnsAError ?? e.dnsAAAAError).map { "name resolution failed: \($0)" } ?? "\(e)"
            return .connectFailed("\(connecting ?? e.host): \(reason)")
        }
        if let connecting { return .connectFailed("\(connecting): \(error)") }
        if error is IOError { return .connectionClosed("\(during): \(error)") }
        return .protocolViolation("\(during): \(error)")
    }
}
