import Codecs
import HAL

/// OCPP security profiles (security whitepaper): what protects the connection.
public enum OCPPSecurityProfile: Int, Sendable, Hashable, CaseIterable {
    /// No authentication, no TLS: only for tests and closed networks.
    case unsecured = 0
    /// HTTP Basic authentication over plain WebSocket.
    case basicAuth = 1
    /// HTTP Basic authentication over TLS, the CSMS certificate checked.
    case tlsWithBasicAuth = 2
    /// TLS with a client certificate (mutual TLS), no Basic authentication.
    case tlsWithClientCertificate = 3
}

/// HTTP Basic credentials: user = charge point identity, password = AuthorizationKey.
public struct OCPPBasicAuthCredentials: Sendable, Hashable {
    public var username: String
    /// The password as sent: raw bytes (1.6 AuthorizationKey is configured as hex of these).
    public var password: [UInt8]

    public init(username: String, password: String) {
        self.username = username
        self.password = Array(password.utf8)
    }

    public init(username: String, passwordBytes: [UInt8]) {
        self.username = username
        self.password = passwordBytes
    }

    /// OCPP 1.6: the AuthorizationKey is configured as hex; its bytes are the password.
    public init(username: String, hexAuthorizationKey hex: String) throws(OCPPTransportError) {
        guard let bytes = Hex.decode(hex) else {
            throw .invalidConfiguration("AuthorizationKey must be an even number of hex digits")
        }
        self.init(username: username, passwordBytes: bytes)
    }

    /// The value of the Authorization header: "Basic " + base64(username ":" password).
    public var authorizationHeaderValue: String {
        "Basic " + Base64.encode(Array(username.utf8) + [UInt8(ascii: ":")] + password)
    }
}

/// Printed (a log line, a debugger, a configuration printed whole) without the password.
extension OCPPBasicAuthCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "OCPPBasicAuthCredentials(username: \(username), password: <\(password.count) bytes redacted>)" }
    public var debugDescription: String { description }
}

/// A certificate, chain or key in PEM form: a file path or the PEM bytes themselves.
public enum OCPPPEMSource: Sendable, Hashable {
    case file(String)
    case bytes([UInt8])
}

/// TLS settings (security profiles 2 and 3). TLS 1.2 is the minimum.
public struct OCPPTLSSettings: Sendable, Hashable {
    /// The installed CSMS root certificates the server chain must lead to.
    public var trustedRoots: [OCPPPEMSource]
    /// The operating system's root store instead of (when `trustedRoots` is empty) our own.
    public var useSystemTrustRoots: Bool
    /// Our certificate chain (leaf first) for mutual TLS (profile 3).
    public var clientCertificateChain: [OCPPPEMSource]
    public var clientPrivateKey: OCPPPEMSource?

    public init(trustedRoots: [OCPPPEMSource], useSystemTrustRoots: Bool = false,
                clientCertificateChain: [OCPPPEMSource] = [], clientPrivateKey: OCPPPEMSource? = nil) {
        self.trustedRoots = trustedRoots
        self.useSystemTrustRoots = useSystemTrustRoots
        self.clientCertificateChain = clientCertificateChain
        self.clientPrivateKey = clientPrivateKey
    }
}

/// Everything one WebSocket connection to the CSMS needs.
public struct OCPPWebSocketConfiguration: Sendable, Hashable {
    public var endpoint: OCPPEndpoint
    /// Offered in Sec-WebSocket-Protocol, in order of preference ("ocpp1.6", "ocpp2.0.1").
    public var subprotocols: [String]
    public var basicAuth: OCPPBasicAuthCredentials?
    /// Required for wss:// endpoints.
    public var tls: OCPPTLSSettings?
    /// WebSocketPingInterval; nil or zero: no pings.
    public var pingInterval: EVSEDuration?
    /// How long to wait for the pong after a ping before the connection counts as dead.
    public var pongTimeout: EVSEDuration
    /// TCP connect plus TLS and WebSocket handshake.
    public var connectTimeout: EVSEDuration
    /// Largest message accepted, after reassembling fragments.
    public var maxMessageBytes: Int

    public init(endpoint: OCPPEndpoint, subprotocols: [String], basicAuth: OCPPBasicAuthCredentials? = nil,
                tls: OCPPTLSSettings? = nil, pingInterval: EVSEDuration? = .seconds(Int64(60)),
                pongTimeout: EVSEDuration = .seconds(Int64(10)), connectTimeout: EVSEDuration = .seconds(Int64(30)),
                maxMessageBytes: Int = 1 << 20) {
        self.endpoint = endpoint
        self.subprotocols = subprotocols
        self.basicAuth = basicAuth
        self.tls = tls
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
        self.connectTimeout = connectTimeout
        self.maxMessageBytes = maxMessageBytes
    }

    /// A configuration for one security profile, checking that the pieces fit it: profile 0
    /// and 1 use ws://, 2 and 3 wss:// with trusted roots; 1 and 2 need the AuthorizationKey
    /// (as `basicAuthPassword`), 3 a client certificate and key.
    public static func forSecurityProfile(
        _ profile: OCPPSecurityProfile, backendURL: String, identity: String, subprotocols: [String],
        basicAuthPassword: [UInt8]? = nil, tls: OCPPTLSSettings? = nil,
        pingInterval: EVSEDuration? = .seconds(Int64(60))
    ) throws(OCPPTransportError) -> OCPPWebSocketConfiguration {
        let endpoint = try OCPPEndpoint(backendURL: backendURL, identity: identity)
        guard !subprotocols.isEmpty else { throw .invalidConfiguration("no OCPP subprotocol to offer") }
        var configuration = OCPPWebSocketConfiguration(endpoint: endpoint, subprotocols: subprotocols,
                                                       pingInterval: pingInterval)
        switch profile {
        case .unsecured, .basicAuth:
            guard !endpoint.isSecure else {
                throw .invalidConfiguration("security profile \(profile.rawValue) uses ws://, the URL is wss://")
            }
        case .tlsWithBasicAuth, .tlsWithClientCertificate:
            guard endpoint.isSecure else {
                throw .invalidConfiguration("security profile \(profile.rawValue) needs a wss:// URL")
            }
            guard let tls, !tls.trustedRoots.isEmpty || tls.useSystemTrustRoots else {
                throw .invalidConfiguration("security profile \(profile.rawValue) needs the CSMS root certificate(s)")
            }
            configuration.tls = tls
        }
        switch profile {
        case .unsecured, .tlsWithClientCertificate: break
        case .basicAuth, .tlsWithBasicAuth:
            guard let basicAuthPassword, !basicAuthPassword.isEmpty else {
                throw .invalidConfiguration("security profile \(profile.rawValue) needs an AuthorizationKey")
            }
            configuration.basicAuth = OCPPBasicAuthCredentials(username: identity, passwordBytes: basicAuthPassword)
        }
        if profile == .tlsWithClientCertificate {
            guard let tls, !tls.clientCertificateChain.isEmpty, tls.clientPrivateKey != nil else {
                throw .invalidConfiguration("security profile 3 needs a client certificate and its key")
            }
        }
        return configuration
    }
}
