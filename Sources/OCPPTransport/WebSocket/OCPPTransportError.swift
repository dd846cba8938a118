/// Why a connection to the CSMS could not be made or ended.
public enum OCPPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidURL(String)
    case invalidConfiguration(String)
    case invalidCertificate(String)
    case connectFailed(String)
    case tlsFailed(String)
    /// The server answered the upgrade request with something other than 101.
    case upgradeRejected(status: Int, reason: String)
    /// The server did not choose one of the subprotocols we offered (OCPP-J: we must drop it).
    case subprotocolMismatch(offered: [String], chosen: String?)
    case handshakeTimedOut
    case closedDuringHandshake

    public var description: String {
        switch self {
        case .invalidURL(let text): return "invalid CSMS URL: \(text)"
        case .invalidConfiguration(let text): return "invalid transport configuration: \(text)"
        case .invalidCertificate(let text): return "invalid certificate or key: \(text)"
        case .connectFailed(let text): return "could not connect: \(text)"
        case .tlsFailed(let text): return "TLS failed: \(text)"
        case .upgradeRejected(let status, let reason):
            return "the CSMS refused the WebSocket upgrade with HTTP \(status) \(reason)"
        case .subprotocolMismatch(let offered, let chosen):
            return "the CSMS chose subprotocol \(chosen.map { "\"\($0)\"" } ?? "none"), we offered \(offered.joined(separator: ", "))"
        case .handshakeTimedOut: return "no WebSocket handshake answer in time"
        case .closedDuringHandshake: return "the connection closed during the WebSocket handshake"
        }
    }
}

/// Why an established connection ended.
public enum OCPPDisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// The server sent a close frame.
    case closedByServer(code: UInt16?, reason: String)
    /// We closed it (shutdown, configuration change).
    case closedLocally
    /// No pong within the timeout after a ping.
    case pongTimeout
    /// The server broke the WebSocket rules (binary frame, oversized message, bad UTF-8 …).
    case protocolViolation(String)
    /// The TCP/TLS connection dropped or failed.
    case connectionError(String)
    /// The connection attempt itself failed.
    case connectFailed(OCPPTransportError)

    public var description: String {
        switch self {
        case .closedByServer(let code, let reason):
            return "closed by the CSMS (code \(code.map(String.init) ?? "none")\(reason.isEmpty ? "" : ", \(reason)"))"
        case .closedLocally: return "closed locally"
        case .pongTimeout: return "no pong in time"
        case .protocolViolation(let text): return "WebSocket protocol violation: \(text)"
        case .connectionError(let text): return "connection error: \(text)"
        case .connectFailed(let error): return error.description
        }
    }
}
