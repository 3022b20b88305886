/// How an ``HTTPClient`` connects, authenticates and limits its requests.
public struct HTTPClientConfiguration: Sendable {
    /// Time allowed to establish a connection (TCP and TLS). Default 5 s.
    public var connectTimeout: Duration
    /// Time allowed for a whole request, connect included. Default 30 s. A request may override it.
    public var timeout: Duration
    /// Credentials sent with every request.
    public var authorization: HTTPAuthorization?
    /// TLS settings for `https://` URLs.
    public var tls: TLSConfiguration
    /// Header fields sent with every request (for example `X-Scope-OrgID` for Mimir).
    public var headers: [HTTPHeader]
    /// Ask for gzip or deflate and decompress transparently. Default on.
    public var acceptCompressed: Bool
    /// A body larger than this fails the request with ``HTTPClientError/responseTooLarge(limit:)``. Default 256 MiB.
    public var maxResponseBytes: Int
    /// The `User-Agent` header.
    public var userAgent: String

    /// Creates a configuration; every parameter has a safe default.
    public init(
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(30),
        authorization: HTTPAuthorization? = nil,
        tls: TLSConfiguration = TLSConfiguration(),
        headers: [HTTPHeader] = [],
        acceptCompressed: Bool = true,
        maxResponseBytes: Int = 256 << 20,
        userAgent: String = "healer/0.1"
    ) {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.authorization = authorization
        self.tls = tls
        self.headers = headers
        self.acceptCompressed = acceptCompressed
        self.maxResponseBytes = maxResponseBytes
        self.userAgent = userAgent
    }
}

/// Credentials for the `Authorization` header.
public enum HTTPAuthorization: Sendable, Equatable {
    /// `Authorization: Bearer <token>`.
    case bearer(String)
    /// `Authorization: Bearer <token>`, the token read from a file and re-read whenever the file changes
    /// (Kubernetes rotates projected service-account tokens by swapping a symlink).
    case bearerTokenFile(path: String)
    /// HTTP basic authentication.
    case basic(username: String, password: String)
}

/// TLS settings. Certificates are verified against the system trust store unless ``caFile`` names another.
public struct TLSConfiguration: Sendable, Equatable {
    /// A PEM bundle of CA certificates to trust instead of the system store.
    public var caFile: String?
    /// A PEM client certificate, for servers that require mutual TLS.
    public var certificateFile: String?
    /// The PEM private key of ``certificateFile``.
    public var keyFile: String?
    /// Skip verification of the server's certificate and name. Never the default; for labs only.
    public var insecureSkipVerify: Bool

    /// Creates TLS settings.
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, insecureSkipVerify: Bool = false) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}
