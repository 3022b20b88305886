/// Our outbound HTTP client, over libcurl.
///
/// Every transfer runs on one dedicated thread (``CurlTransferLoop``), never on Swift's cooperative pool.
/// Connections are kept alive and reused across requests and clients. Cancelling the calling Task aborts
/// the transfer at once and closes its connection.
///
/// ```swift
/// let client = HTTPClient(configuration: .init(timeout: .seconds(5)))
/// let response = try await client.execute(.form(url: "http://127.0.0.1:9090/api/v1/query", fields: [("query", "up")]))
/// ```
public struct HTTPClient: Sendable {
    /// The settings every request of this client uses.
    public let configuration: HTTPClientConfiguration
    private let tokenFile: TokenFile?
    private let loop: CurlTransferLoop

    /// Creates a client. Cheap: all clients share the process's transfer thread and connection cache.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
        if case .bearerTokenFile(let path) = configuration.authorization {
            self.tokenFile = TokenFile(path: path)
        } else {
            self.tokenFile = nil
        }
        self.loop = .shared
    }

    /// Sends `request` and returns the response, whatever its status.
    ///
    /// - Throws: ``HTTPClientError`` when the transfer fails, `CancellationError` when the Task is cancelled.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let prepared = PreparedRequest(request: request, configuration: configuration, tokenFile: tokenFile)
        let loop = self.loop
        let id = loop.register()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.submit(id, prepared, continuation)
            }
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Sends a `GET`.
    public func get(_ url: String, headers: [HTTPHeader] = [], timeout: Duration? = nil) async throws -> HTTPResponse {
        try await execute(HTTPRequest(method: .get, url: url, headers: headers, timeout: timeout))
    }
}
