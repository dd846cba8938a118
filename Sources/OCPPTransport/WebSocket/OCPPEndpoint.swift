import Codecs

/// Where to connect: the backend URL with the percent-encoded charge point identity appended.
public struct OCPPEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var isSecure: Bool
    public var host: String
    public var port: Int
    /// Request target, starting with "/" and ending with the encoded identity.
    public var path: String

    /// `backendURL` is `ws://host[:port][/path]` or `wss://…`; the identity is appended as
    /// one more path segment, percent-encoded.
    public init(backendURL: String, identity: String) throws(OCPPTransportError) {
        guard !identity.isEmpty else { throw .invalidConfiguration("the charge point identity is empty") }
        let rest: Substring
        if backendURL.lowercased().hasPrefix("wss://") {
            isSecure = true
            rest = backendURL.dropFirst(6)
        } else if backendURL.lowercased().hasPrefix("ws://") {
            isSecure = false
            rest = backendURL.dropFirst(5)
        } else {
            throw .invalidURL("\"\(backendURL)\" must start with ws:// or wss://")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var basePath = String(rest[authorityEnd...])
        if basePath.contains("?") || basePath.contains("#") {
            throw .invalidURL("\"\(backendURL)\" has a query or fragment; the identity must be the last path segment")
        }
        if authority.contains("@") { throw .invalidURL("\"\(backendURL)\" carries credentials; configure them separately") }
        do {
            let parsed = try URIAuthority(authority)
            host = parsed.host
            port = parsed.port ?? (isSecure ? 443 : 80)
        } catch {
            throw .invalidURL("\"\(backendURL)\" \(error)")
        }
        while basePath.hasSuffix("/") { basePath.removeLast() }
        path = basePath + "/" + PercentEncoding.encode(identity)
    }

    /// Value of the Host header.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let defaultPort = isSecure ? 443 : 80
        return port == defaultPort ? h : "\(h):\(port)"
    }

    public var description: String { "\(isSecure ? "wss" : "ws")://\(hostHeader)\(path)" }
}
