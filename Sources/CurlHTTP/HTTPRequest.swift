public import Foundation

/// An HTTP method.
public enum HTTPMethod: String, Sendable, Hashable {
    /// `GET`
    case get = "GET"
    /// `HEAD`: the response has no body.
    case head = "HEAD"
    /// `POST`
    case post = "POST"
    /// `PUT`
    case put = "PUT"
    /// `PATCH`
    case patch = "PATCH"
    /// `DELETE`
    case delete = "DELETE"
}

/// One HTTP header field. Names compare case-insensitively wherever the client looks them up.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible {
    /// The field name as sent, e.g. `X-Scope-OrgID`.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}

/// A request for ``HTTPClient/execute(_:)``: what to send, with optional per-request limits.
public struct HTTPRequest: Sendable {
    /// The method.
    public var method: HTTPMethod
    /// The absolute `http://` or `https://` URL, query string included.
    public var url: String
    /// Header fields sent in addition to the client's default headers.
    public var headers: [HTTPHeader]
    /// The body, sent with `Content-Length`; `nil` sends none.
    public var body: Data?
    /// A total time limit for this request that replaces the client's ``HTTPClientConfiguration/timeout``.
    public var timeout: Duration?

    /// Creates a request.
    public init(method: HTTPMethod = .get, url: String, headers: [HTTPHeader] = [], body: Data? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// A `POST` with an `application/x-www-form-urlencoded` body built from `fields`, in order.
    public static func form(url: String, fields: [(String, String)], headers: [HTTPHeader] = [], timeout: Duration? = nil) -> HTTPRequest {
        HTTPRequest(
            method: .post,
            url: url,
            headers: headers + [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
            body: Data(FormEncoding.encode(fields).utf8),
            timeout: timeout
        )
    }

    /// A request whose body is `value` encoded as JSON (`Content-Type: application/json`).
    public static func json<Body: Encodable>(
        _ method: HTTPMethod = .post,
        url: String,
        body value: Body,
        headers: [HTTPHeader] = [],
        timeout: Duration? = nil
    ) throws -> HTTPRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return HTTPRequest(
            method: method,
            url: url,
            headers: headers + [HTTPHeader("Content-Type", "application/json")],
            body: try encoder.encode(value),
            timeout: timeout
        )
    }
}
