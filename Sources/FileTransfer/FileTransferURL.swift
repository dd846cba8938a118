import Codecs

/// A location the CSMS gave for a file transfer: `scheme://[user[:password]@]host[:port][/path]`
/// with scheme ftp, http or https. User, password and path segments are percent-decoded here;
/// a value that would smuggle a CR or LF into an FTP command or an HTTP header is refused.
public struct FileTransferURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case ftp, http, https

        public var defaultPort: Int {
            switch self {
            case .ftp: return 21
            case .http: return 80
            case .https: return 443
            }
        }
    }

    public var scheme: Scheme
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int
    /// The path as written (still percent-encoded), starting with "/" (just "/" when absent),
    /// with the query when there is one: the HTTP request target.
    public var requestTarget: String

    public init(_ text: String) throws(FileTransferError) {
        guard let separator = text.firstRange(of: "://") else {
            throw .invalidURL("\"\(Self.redacted(text))\" is not a URL (scheme://host/path)")
        }
        let schemeText = text[..<separator.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw .unsupportedScheme(schemeText)
        }
        self.scheme = scheme
        var rest = text[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let target = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.decode(userInfo[..<colon], "user name")
                password = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                user = try Self.decode(userInfo, "user name")
            }
        }
        do {
            let parsed = try URIAuthority(authority)
            host = parsed.host
            port = parsed.port ?? scheme.defaultPort
        } catch {
            throw .invalidURL("\"\(Self.redacted(text))\" \(error)")
        }
        guard target.allSatisfy({ $0.isASCII && $0 != " " && $0 != "\r" && $0 != "\n" }) else {
            throw .invalidURL("\"\(Self.redacted(text))\": the path must be percent-encoded ASCII")
        }
        requestTarget = target.isEmpty ? "/" : (target.hasPrefix("?") ? "/" + target : String(target))
        // Decoding now reports a bad escape here, not in the middle of a transfer.
        _ = try pathSegments
    }

    /// The path's segments, percent-decoded (empty segments dropped; no query).
    public var pathSegments: [String] {
        get throws(FileTransferError) {
            let path = requestTarget.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var out: [String] = []
            for segment in path.split(separator: "/") { out.append(try Self.decode(segment, "path")) }
            return out
        }
    }

    /// The file `fileName` inside this location taken as a directory (`-T file dir/`, as curl
    /// and EVerest do it: `<location>/<fileName>`).
    public func appending(fileName: String) -> FileTransferURL {
        var url = self
        let parts = requestTarget.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(parts.first ?? "")
        if !path.hasSuffix("/") { path += "/" }
        path += PercentEncoding.encode(fileName)
        url.requestTarget = parts.count > 1 ? path + "?" + parts[1] : path
        return url
    }

    /// `host[:port]` as the Host header writes it (the port only when it is not the default).
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == scheme.defaultPort ? h : "\(h):\(port)"
    }

    /// The URL without its password: what logs and errors show.
    public var description: String {
        let credentials = user.map { PercentEncoding.encode($0) + (password == nil ? "" : ":***") + "@" } ?? ""
        return "\(scheme.rawValue)://\(credentials)\(hostHeader)\(requestTarget)"
    }

    /// A URL text with any password replaced, for messages about a URL that did not parse.
    public static func redacted(_ text: String) -> String { URLPassword.redacted(in: text) }

    static func decode(_ text: Substring, _ what: String) throws(FileTransferError) -> String {
        guard let bytes = PercentEncoding.decode(text) else { throw .invalidURL("bad percent escape in the \(what)") }
        guard !bytes.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
            throw .invalidURL("the \(what) contains a line break")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
