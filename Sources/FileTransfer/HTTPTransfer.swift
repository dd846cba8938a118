import NIOCore
import NIOHTTP1
import Codecs

/// One HTTP/1.1 request on its own connection (`Connection: close`): a GET streamed into a
/// file, or a PUT streamed from one.
struct HTTPTransfer {
    let client: FileTransferClient
    let url: FileTransferURL

    enum DownloadOutcome {
        case complete
        case redirect(String)
    }

    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    func get(into file: DownloadFile, maxBytes: UInt64) async throws(FileTransferError) -> DownloadOutcome {
        let channel: Channel = try await open()
        do {
            return try await channel.executeThenClose { inbound, outbound in
                // A server may answer and close before the request is written out: its answer counts.
                var writeError: (any Error)?
                do { try await outbound.write(contentsOf: [.head(head(.GET, contentLength: nil)), .end(nil)]) } catch {
                    writeError = error
                }
                var complete = false
                for try await part in inbound {
                    switch part {
                    case .head(let response):
                        let code = Int(response.status.code)
                        if [301, 302, 303, 307, 308].contains(code) {
                            guard let location = response.headers.first(name: "Location"), !location.isEmpty else {
                                throw FileTransferError.protocolViolation("HTTP \(code) without a Location")
                            }
                            return .redirect(location)
                        }
                        guard code == 200 else {
                            throw FileTransferError.httpStatus(code: code, reason: response.status.reasonPhrase)
                        }
                        if let length = response.headers.first(name: "Content-Length").flatMap(UInt64.init), length > maxBytes {
                            throw FileTransferError.tooLarge(limit: maxBytes)
                        }
                    case .body(let bytes):
                        guard file.bytesWritten + UInt64(bytes.readableBytes) <= maxBytes else {
                            throw FileTransferError.tooLarge(limit: maxBytes)
                        }
                        try file.write(bytes)
                    case .end:
                        complete = true
                    }
                    if complete { break }
                }
                if let writeError, !complete, file.bytesWritten == 0 { throw writeError }
                guard complete else { throw FileTransferError.connectionClosed("before the end of the HTTP response") }
                return .complete
            }
        } catch {
            file.discard()
            throw FileTransferClient.transferError(error, during: "downloading \(url)")
        }
    }

    func put(_ file: UploadFile) async throws(FileTransferError) {
        let channel: Channel = try await open()
        do {
            try await channel.executeThenClose { inbound, outbound in
                // A server that refuses the upload may answer and close before it has all of it:
                // its answer is what counts.
                var writeError: (any Error)?
                do {
                    try await outbound.write(.head(head(.PUT, contentLength: file.size)))
                    let allocator = channel.channel.allocator
                    var sent: UInt64 = 0
                    while let chunk = try file.next(allocator: allocator) {
                        sent += UInt64(chunk.readableBytes)
                        try await outbound.write(.body(.byteBuffer(chunk)))
                    }
                    guard sent == file.size else {
                        throw FileTransferError.localFile("\(file.path) changed size while it was uploaded")
                    }
                    try await outbound.write(.end(nil))
                } catch let error as FileTransferError {
                    throw error
                } catch {
                    writeError = error
                }
                for try await part in inbound {
                    guard case .head(let response) = part else { continue }
                    let code = Int(response.status.code)
                    guard (200..<300).contains(code) else {
                        throw FileTransferError.httpStatus(code: code, reason: response.status.reasonPhrase)
                    }
                    return
                }
                throw writeError ?? FileTransferError.connectionClosed("before the HTTP server answered the upload")
            }
        } catch {
            throw FileTransferClient.transferError(error, during: "uploading to \(url)")
        }
    }

    private func open() async throws(FileTransferError) -> Channel {
        try await client.connect(host: url.host, port: url.port, tls: url.scheme == .https,
                                 what: "waiting for \(url.hostHeader)") { sync in
            try sync.addHTTPClientHandlers()
        }
    }

    private func head(_ method: HTTPMethod, contentLength: UInt64?) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "User-Agent", value: "SwiftEVSE")
        headers.add(name: "Connection", value: "close")
        if let contentLength {
            headers.add(name: "Content-Type", value: "application/octet-stream")
            headers.add(name: "Content-Length", value: String(contentLength))
        }
        if let user = url.user {
            let credentials = Base64.encode(Array((user + ":" + (url.password ?? "")).utf8))
            headers.add(name: "Authorization", value: "Basic " + credentials)
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: url.requestTarget, headers: headers)
    }

    /// A Location header: absolute, or a path on the same server.
    static func resolve(_ location: String, against base: FileTransferURL) throws(FileTransferError) -> FileTransferURL {
        if location.contains("://") { return try FileTransferURL(location) }
        guard location.hasPrefix("/") else {
            throw .protocolViolation("relative redirect \"\(location)\" is not supported (only absolute URLs and paths)")
        }
        var url = base
        url.requestTarget = location
        return url
    }
}
