/// Why a transfer failed, one case per thing an operator would fix differently.
public enum FileTransferError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidURL(String)
    /// Not ftp, http or https.
    case unsupportedScheme(String)
    /// The TCP connection could not be made (refused, unreachable, no such host).
    case connectFailed(String)
    /// The TLS handshake failed: untrusted certificate, wrong host name, no common protocol.
    case tlsFailed(String)
    /// Nothing was received or sent for the inactivity timeout (or the connect took too long).
    case timeout(String)
    /// The HTTP server answered with a status that is not a success.
    case httpStatus(code: Int, reason: String)
    case tooManyRedirects(Int)
    /// The FTP server refused a command: the command (without its argument when that is a
    /// password), the reply code and text.
    case ftpReply(command: String, code: Int, text: String)
    /// The server spoke something that is not the protocol (a malformed reply or status line).
    case protocolViolation(String)
    /// The download is larger than the limit (bytes).
    case tooLarge(limit: UInt64)
    /// The peer closed the connection before the transfer was complete.
    case connectionClosed(String)
    /// The local file could not be read or written.
    case localFile(String)
    case cancelled

    public var description: String {
        switch self {
        case .invalidURL(let detail): return "invalid URL: \(detail)"
        case .unsupportedScheme(let scheme): return "unsupported protocol \"\(scheme)\" (ftp, http and https are)"
        case .connectFailed(let detail): return "cannot connect: \(detail)"
        case .tlsFailed(let detail): return "TLS failed: \(detail)"
        case .timeout(let detail): return "timed out \(detail)"
        case let .httpStatus(code, reason): return "HTTP \(code) \(reason)"
        case .tooManyRedirects(let count): return "more than \(count) redirects"
        case let .ftpReply(command, code, text): return "FTP \(command): \(code) \(text)"
        case .protocolViolation(let detail): return "protocol violation: \(detail)"
        case .tooLarge(let limit): return "larger than the limit of \(limit) bytes"
        case .connectionClosed(let detail): return "connection closed \(detail)"
        case .localFile(let detail): return "local file: \(detail)"
        case .cancelled: return "cancelled"
        }
    }

    /// What kind of failure this is, in the terms of OCPP's upload statuses.
    public enum Kind: Sendable, Hashable {
        /// The server refused our credentials or the target (HTTP 401/403, FTP 530/532/550/553).
        case permissionDenied
        /// The server does not do the operation (HTTP 405/501, FTP 502/504).
        case notSupported
        /// The server does not speak the protocol.
        case badMessage
        case other
    }

    public var kind: Kind {
        switch self {
        case let .httpStatus(code, _):
            if code == 401 || code == 403 { return .permissionDenied }
            if code == 405 || code == 501 { return .notSupported }
            return .other
        case let .ftpReply(_, code, _):
            if [530, 532, 550, 553].contains(code) { return .permissionDenied }
            if [502, 504].contains(code) { return .notSupported }
            return .other
        case .protocolViolation: return .badMessage
        default: return .other
        }
    }
}
