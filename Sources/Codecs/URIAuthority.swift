/// The `host[:port]` part of a URL (RFC 3986 authority without user info), as the WebSocket
/// client and the file transfers both read it: an IPv6 address in brackets, an optional port.
public struct URIAuthority: Sendable, Hashable {
    public var host: String
    /// nil when the text names none (the scheme's default applies).
    public var port: Int?

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case unclosedIPv6Address
        case junkAfterIPv6Address
        case noHost
        case invalidHost
        case invalidPort(String)

        public var description: String {
            switch self {
            case .unclosedIPv6Address: return "has an unclosed IPv6 address"
            case .junkAfterIPv6Address: return "has junk after the IPv6 address"
            case .noHost: return "has no host"
            case .invalidHost: return "has an invalid host name"
            case .invalidPort(let text): return "has an invalid port \"\(text)\""
            }
        }
    }

    public init(host: String, port: Int?) {
        self.host = host
        self.port = port
    }

    public init(_ authority: Substring) throws(Problem) {
        var hostPart = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .unclosedIPv6Address }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .junkAfterIPv6Address }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw .noHost }
        guard hostPart.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" && $0 != "%" && $0 != "@" }) else {
            throw .invalidHost
        }
        host = String(hostPart)
        if let portText, !portText.isEmpty {
            guard let value = Int(portText), (1...65_535).contains(value) else { throw .invalidPort(String(portText)) }
            port = value
        }
    }
}
