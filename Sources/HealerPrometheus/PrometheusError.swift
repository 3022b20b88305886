public import CurlHTTP

/// A failed Prometheus API call, classified so that a controller knows whether to retry, and whether the
/// query itself is wrong.
///
/// The classification trusts the HTTP status as much as the `errorType` name, because VictoriaMetrics
/// puts the numeric status in `errorType`.
public struct PrometheusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Equatable {
        /// The query or a parameter is malformed (`bad_data`, HTTP 400). Retrying will not help.
        case badData = "bad_data"
        /// The query failed while running, e.g. many-to-many matching (`execution`, HTTP 422).
        case execution
        /// The evaluation exceeded its time limit (`timeout`, HTTP 503).
        case timeout
        /// The server canceled the query (`canceled`, HTTP 499).
        case canceled
        /// An internal server error (`internal`, HTTP 500).
        case `internal`
        /// The endpoint does not exist (`not_found`, HTTP 404): a wrong URL or path prefix.
        case notFound = "not_found"
        /// The server cannot answer now: still starting (plain-text 503), overloaded, or behind a failing proxy.
        case unavailable
        /// Authentication failed (HTTP 401 or 403).
        case unauthorized
        /// The server answered, but not with a Prometheus API response (garbage, an HTML page, truncated JSON).
        case invalidResponse = "invalid_response"
        /// The request never got an answer: see ``PrometheusError/transport``.
        case transport
        /// Any other error.
        case other
    }

    /// What went wrong.
    public var kind: Kind
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// The `errorType` the server sent, as sent.
    public var errorType: String?
    /// The server's error text, or a description of the failure.
    public var message: String
    /// The API path that failed, e.g. `/api/v1/query`.
    public var endpoint: String
    /// The underlying client error for ``Kind/transport``.
    public var transport: HTTPClientError?

    /// Creates an error.
    public init(kind: Kind, status: Int? = nil, errorType: String? = nil, message: String, endpoint: String, transport: HTTPClientError? = nil) {
        self.kind = kind
        self.status = status
        self.errorType = errorType
        self.message = message
        self.endpoint = endpoint
        self.transport = transport
    }

    /// Whether the same call may succeed later. A bad query never will; a slow or unreachable server may.
    public var isRetryable: Bool {
        switch kind {
        case .timeout, .canceled, .internal, .unavailable: true
        case .transport: transport?.isRetryable ?? true
        case .other: (status ?? 0) >= 500
        case .badData, .execution, .notFound, .unauthorized, .invalidResponse: false
        }
    }

    public var description: String {
        var text = "Prometheus \(endpoint): "
        switch kind {
        case .transport:
            if case .transport(let failure)? = transport {
                text += "no answer from \(failure.url): \(failure.message) (curl error \(failure.code))"
            } else {
                text += message
            }
        default:
            text += "\(kind.rawValue)"
            if let status { text += " (HTTP \(status))" }
            if !message.isEmpty { text += ": \(message)" }
        }
        return text
    }

    /// The kind for an error envelope (`errorType` as sent) or a non-JSON answer (`errorType` nil) with `status`.
    public static func kind(errorType: String?, status: Int) -> Kind {
        switch errorType {
        case "bad_data": return .badData
        case "execution": return .execution
        case "timeout": return .timeout
        case "canceled": return .canceled
        case "internal": return .internal
        case "not_found": return .notFound
        case "unavailable": return .unavailable
        default: break
        }
        switch status {
        case 400: return .badData
        case 401, 403: return .unauthorized
        case 404: return .notFound
        case 422: return .execution
        case 499: return .canceled
        case 500: return .internal
        case 502, 503, 504, 429: return .unavailable
        default: return errorType == nil && status >= 500 ? .unavailable : .other
        }
    }
}
