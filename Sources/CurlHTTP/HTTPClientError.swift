import Foundation

/// Everything that can go wrong with an outbound HTTP request, apart from Task cancellation
/// (which throws `CancellationError`).
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libcurl failed the transfer: connection refused, timeout, TLS failure, truncated body, ...
    case transport(CurlFailure)
    /// The server answered with a status the caller does not accept (see ``HTTPResponse/requireSuccess()``).
    case status(Int, body: String)
    /// The configured credentials could not be read (a missing or unreadable token file).
    case credentials(path: String, reason: String)
    /// The response body exceeded ``HTTPClientConfiguration/maxResponseBytes``.
    case responseTooLarge(limit: Int)
    /// The request cannot be sent as given (an empty URL, a header with a line break, ...).
    case invalidRequest(String)

    /// Whether the same request may succeed if tried again later: network failures, timeouts,
    /// 5xx, 429 and 408 are retryable; bad URLs, TLS verification failures and 4xx are not.
    public var isRetryable: Bool {
        switch self {
        case .transport(let failure): failure.isRetryable
        case .status(let code, _): code >= 500 || code == 429 || code == 408
        case .credentials, .responseTooLarge, .invalidRequest: false
        }
    }

    /// Whether the connect or total timeout fired.
    public var isTimedOut: Bool {
        if case .transport(let failure) = self { return failure.isTimeout }
        return false
    }

    public var description: String {
        switch self {
        case .transport(let failure): failure.description
        case .status(let code, let body): body.isEmpty ? "HTTP \(code)" : "HTTP \(code): \(body)"
        case .credentials(let path, let reason): "cannot read credentials from \(path): \(reason)"
        case .responseTooLarge(let limit): "response body larger than the limit of \(limit) bytes"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        }
    }

    /// The start of a body as one line of text, for error messages.
    static func excerpt(of body: Data, limit: Int = 200) -> String {
        let text = String(decoding: body.prefix(limit), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        return body.count > limit ? text + "…" : text
    }
}

/// A failed libcurl transfer: the `CURLcode`, its name and curl's own message.
public struct CurlFailure: Sendable, Equatable, CustomStringConvertible {
    /// The numeric `CURLcode`, e.g. 7 for `CURLE_COULDNT_CONNECT`, 28 for `CURLE_OPERATION_TIMEDOUT`.
    public var code: Int
    /// curl's message: the detailed text from `CURLOPT_ERRORBUFFER` when there is one, else `curl_easy_strerror`.
    public var message: String
    /// The URL of the failed request, without credentials.
    public var url: String

    /// Creates a failure.
    public init(code: Int, message: String, url: String) {
        self.code = code
        self.message = message
        self.url = url
    }

    /// `CURLE_OPERATION_TIMEDOUT`: the connect or total timeout fired.
    public var isTimeout: Bool { code == 28 }
    /// `CURLE_COULDNT_CONNECT`: nothing listens, or a firewall refused.
    public var isConnectionRefused: Bool { code == 7 }

    /// Whether a later retry may succeed.
    ///
    /// Retryable: name resolution (6), connect (7), HTTP/2 framing (16, 92), partial body (18), nothing
    /// received (52), send/receive errors (55, 56) and timeouts (28). Everything else (malformed URL,
    /// unsupported protocol, TLS verification or certificate problems, write errors) needs a human.
    public var isRetryable: Bool {
        [6, 7, 16, 18, 28, 52, 55, 56, 92].contains(code)
    }

    public var description: String { "\(url): \(message) (curl error \(code))" }
}
