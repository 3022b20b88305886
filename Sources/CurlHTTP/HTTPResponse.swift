public import Foundation

/// A complete HTTP response. Any status is a response: deciding what a 503 means is the caller's business.
public struct HTTPResponse: Sendable {
    /// The status code of the final response (after any `100 Continue`).
    public var status: Int
    /// The header fields of the final response, in the order received.
    public var headers: [HTTPHeader]
    /// The body, already decompressed when the server used gzip or deflate.
    public var body: Data
    /// How many new connections libcurl opened for this transfer: 0 when a kept-alive one was reused.
    public var newConnections: Int
    /// Time from the start of the transfer to its end.
    public var totalTime: Duration

    /// Creates a response (the client does this; tests may too).
    public init(status: Int, headers: [HTTPHeader], body: Data, newConnections: Int = 0, totalTime: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
        self.totalTime = totalTime
    }

    /// The value of the first header named `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as UTF-8 text (invalid sequences repaired).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Returns `self` when the status is 2xx, and throws ``HTTPClientError/status(_:body:)`` otherwise.
    @discardableResult
    public func requireSuccess() throws(HTTPClientError) -> HTTPResponse {
        guard isSuccess else { throw .status(status, body: HTTPClientError.excerpt(of: body)) }
        return self
    }
}
