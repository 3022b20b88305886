public import CurlHTTP
import Foundation

/// A failed Kubernetes API call: the API's own `Status` (code, reason, message), or no answer at all.
public enum KubernetesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The API server answered with a `Status` (or a bare error code).
    case status(APIStatus)
    /// No answer: connection refused, timeout, TLS failure.
    case transport(HTTPClientError)
    /// An answer that is not the object expected.
    case undecodable(String)
    /// The configuration or the credentials cannot be used.
    case configuration(String)

    /// What to do about it.
    public enum Retry: Sendable, Equatable {
        /// It will fail the same way: do not retry (400, 401, 403, 404, 405, 415, 422).
        case never
        /// Read the object again and decide again (409 Conflict: someone else wrote first).
        case afterRereading
        /// Wait this long, as the server asked (429 with `Retry-After`, or a PodDisruptionBudget's `retryAfterSeconds`).
        case after(Duration)
        /// Back off and try again (429 without a delay, 5xx, no answer).
        case withBackoff
        /// Start the list again from the beginning (410 Gone: the `continue` token expired).
        case relist
    }

    /// The retry rule.
    public var retry: Retry {
        switch self {
        case .status(let status):
            switch status.code {
            case 409: return .afterRereading
            case 410: return .relist
            case 429: return status.retryAfter.map { .after($0) } ?? .withBackoff
            case 500...: return .withBackoff
            default: return .never
            }
        case .transport(let error): return error.isRetryable ? .withBackoff : .never
        case .undecodable, .configuration: return .never
        }
    }

    /// The HTTP status code, when the server answered.
    public var code: Int? {
        if case .status(let status) = self { return status.code }
        return nil
    }

    /// The `Status` reason (`NotFound`, `Conflict`, `TooManyRequests`, …), when the server gave one.
    public var reason: String? {
        if case .status(let status) = self { return status.reason }
        return nil
    }

    public var description: String {
        switch self {
        case .status(let status): "Kubernetes API: \(status.code) \(status.reason ?? "")".trimmingCharacters(in: .whitespaces) + ": \(status.message)"
        case .transport(let error): "Kubernetes API unreachable: \(error)"
        case .undecodable(let detail): "Kubernetes API: unexpected answer: \(detail)"
        case .configuration(let detail): "Kubernetes configuration: \(detail)"
        }
    }
}

/// The API's `Status` object for a failure.
public struct APIStatus: Sendable, Equatable {
    /// The HTTP status code.
    public var code: Int
    /// `NotFound`, `Conflict`, `Invalid`, `TooManyRequests`, …
    public var reason: String?
    /// The server's message.
    public var message: String
    /// `details.causes[].reason` (`DisruptionBudget`, `FieldValueInvalid`, …).
    public var causes: [String]
    /// How long the server asked to wait: `Retry-After`, or `details.retryAfterSeconds`.
    public var retryAfter: Duration?

    /// Creates a status.
    public init(code: Int, reason: String? = nil, message: String, causes: [String] = [], retryAfter: Duration? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.retryAfter = retryAfter
    }

    /// The status of a failed response: its `Status` body when it has one, else the code and the body's start.
    init(response: HTTPResponse) {
        struct Body: Decodable {
            struct Details: Decodable {
                struct Cause: Decodable { var reason: String? }
                var causes: [Cause]?
                var retryAfterSeconds: Int?
            }
            var kind: String?
            var reason: String?
            var message: String?
            var details: Details?
        }
        let body = try? JSONDecoder().decode(Body.self, from: response.body)
        let header = response.header("Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let seconds = header ?? body?.details?.retryAfterSeconds
        self.init(
            code: response.status, reason: body?.kind == "Status" ? body?.reason : nil,
            message: body?.message ?? String(decoding: response.body.prefix(200), as: UTF8.self),
            causes: body?.details?.causes?.compactMap(\.reason) ?? [], retryAfter: seconds.map { .seconds($0) })
    }
}
