/// A request the fake API server refuses, answered as the real one answers: a `Status` object.
public enum FakeAPIError: Error, Sendable, Equatable {
    case badRequest(String)
    case unauthorized
    case notFound(resource: String, name: String)
    case alreadyExists(resource: String, name: String)
    case conflict(resource: String, name: String, message: String)
    case invalid(String)
    case methodNotAllowed
    case unsupportedMediaType(String)
    case tooManyRequests(message: String, cause: String?, retryAfterSeconds: Int?)
    /// A list's `continue` token expired.
    case gone
    case internalError(String)
    /// The API server (or the path to it) is down.
    case unavailable

    var code: Int {
        switch self {
        case .badRequest: 400
        case .unauthorized: 401
        case .notFound: 404
        case .alreadyExists, .conflict: 409
        case .invalid: 422
        case .methodNotAllowed: 405
        case .unsupportedMediaType: 415
        case .tooManyRequests: 429
        case .gone: 410
        case .internalError: 500
        case .unavailable: 503
        }
    }

    /// The `Status` the API server answers with.
    var status: JSONValue {
        var details: JSONValue? = nil
        let (reason, message): (String, String)
        switch self {
        case .badRequest(let text): (reason, message) = ("BadRequest", text)
        case .unauthorized: (reason, message) = ("Unauthorized", "Unauthorized")
        case .notFound(let resource, let name):
            (reason, message) = ("NotFound", "\(resource) \"\(name)\" not found")
            details = ["name": .string(name), "kind": .string(resource.split(separator: ".").first.map(String.init) ?? resource)]
        case .alreadyExists(let resource, let name):
            (reason, message) = ("AlreadyExists", "\(resource) \"\(name)\" already exists")
            details = ["name": .string(name), "kind": .string(resource.split(separator: ".").first.map(String.init) ?? resource)]
        case .conflict(let resource, let name, let text):
            (reason, message) = ("Conflict", "Operation cannot be fulfilled on \(resource) \"\(name)\": \(text)")
            details = ["name": .string(name), "kind": .string(resource.split(separator: ".").first.map(String.init) ?? resource)]
        case .invalid(let text): (reason, message) = ("Invalid", text)
        case .methodNotAllowed: (reason, message) = ("MethodNotAllowed", "the server does not allow this method on the requested resource")
        case .unsupportedMediaType(let type):
            (reason, message) = ("UnsupportedMediaType", "the body of the request was in an unknown format: \(type)")
        case .tooManyRequests(let text, let cause, let retryAfter):
            (reason, message) = ("TooManyRequests", text)
            var value: JSONValue = [:]
            if let cause { value["causes"] = [["reason": "DisruptionBudget", "message": .string(cause)]] }
            if let retryAfter { value["retryAfterSeconds"] = .number(Double(retryAfter)) }
            details = value
        case .gone:
            (reason, message) = (
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
            )
        case .internalError(let text): (reason, message) = ("InternalError", text)
        case .unavailable: (reason, message) = ("ServiceUnavailable", "the server is currently unable to handle the request")
        }
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message), "reason": .string(reason),
            "code": .number(Double(code)),
        ]
        status["details"] = details
        return status
    }
}
