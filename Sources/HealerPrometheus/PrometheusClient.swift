import CurlHTTP
public import Foundation

/// A client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/api/v1/targets`, `/-/ready`).
///
/// Queries are sent as form-encoded `POST`s, so long PromQL never meets a URL length limit. Every failure is
/// a ``PrometheusError`` (or `CancellationError` when the calling Task is cancelled): an error envelope, the
/// plain-text 503 of a Prometheus that is still starting, a body that is not JSON, or no answer at all.
public struct PrometheusClient: Sendable {
    /// The configuration.
    public let configuration: PrometheusConfiguration
    private let http: HTTPClient

    /// Creates a client.
    public init(configuration: PrometheusConfiguration) {
        self.configuration = configuration
        self.http = HTTPClient(configuration: configuration.http)
    }

    /// Evaluates `expression` at `time` (the server's now when `nil`).
    ///
    /// - Parameters:
    ///   - timeout: the server-side evaluation limit; defaults to ``PrometheusConfiguration/queryTimeout``.
    ///   - keepingLabels: when set, series keep only these labels: a caller that reads two labels of series
    ///     that carry ten saves reading the other eight.
    public func query(
        _ expression: String, at time: Date? = nil, timeout: Duration? = nil, keepingLabels: Set<String>? = nil
    ) async throws -> QueryResponse {
        var fields = [("query", expression)]
        if let time { fields.append(("time", PrometheusTime.format(time))) }
        return try await post("/api/v1/query", fields: fields, timeout: timeout, keepingLabels: keepingLabels)
    }

    /// Evaluates an instant query as ``query(_:at:timeout:keepingLabels:)`` does, its instant vector read straight
    /// into ``SeriesSample``s (what the engine judges), without the client's ``Sample``s in between.
    public func queryInstant(
        _ expression: String, at time: Date? = nil, timeout: Duration? = nil, keepingLabels: Set<String>? = nil
    ) async throws -> InstantAnswer {
        var fields = [("query", expression)]
        if let time { fields.append(("time", PrometheusTime.format(time))) }
        return try await post(
            "/api/v1/query", fields: fields, timeout: timeout, keepingLabels: keepingLabels, fast: QueryResponseReader.readInstant,
            slow: InstantAnswer.init)
    }

    /// Evaluates `expression` at every `step` from `start` to `end`, both included.
    public func queryRange(
        _ expression: String, start: Date, end: Date, step: Duration, timeout: Duration? = nil
    ) async throws -> QueryResponse {
        let fields = [
            ("query", expression), ("start", PrometheusTime.format(start)), ("end", PrometheusTime.format(end)),
            ("step", PrometheusTime.format(step)),
        ]
        return try await post("/api/v1/query_range", fields: fields, timeout: timeout, keepingLabels: nil)
    }

    /// The scrape targets and their health.
    public func targets(state: TargetState? = nil) async throws -> TargetsResponse {
        let path = "/api/v1/targets" + (state.map { "?state=\($0.rawValue)" } ?? "")
        let response = try await send(HTTPRequest(url: configuration.endpoint(path)), endpoint: "/api/v1/targets")
        return try decode(TargetsResponse.self, from: response, endpoint: "/api/v1/targets").data
    }

    /// Whether the server is ready to answer queries (`/-/ready` answers 200).
    ///
    /// - Throws: ``PrometheusError`` only when the server cannot be reached at all; a 503 is `false`.
    public func isReady() async throws -> Bool {
        try await send(HTTPRequest(url: configuration.endpoint("/-/ready")), endpoint: "/-/ready").isSuccess
    }

    /// Decodes a captured `/api/v1/query` answer (benchmarks and tools; the client does this for every query),
    /// keeping only `keepingLabels` when set.
    ///
    /// - Throws: ``PrometheusError`` as for a live answer with status 200.
    public static func decodeQueryResponse(_ body: Data, keepingLabels: Set<String>? = nil) throws -> QueryResponse {
        if let response = QueryResponseReader.read(body, keeping: keepingLabels) { return response }
        var response = try decodeWithJSONDecoder(body)
        if let keepingLabels { response.result = response.result.keepingLabels(keepingLabels) }
        return response
    }

    /// The instant answer in `body` (a successful `/api/v1/query` response), as
    /// ``queryInstant(_:at:timeout:keepingLabels:)`` reads it.
    public static func decodeInstantAnswer(_ body: Data, keepingLabels: Set<String>? = nil) throws -> InstantAnswer {
        if let answer = QueryResponseReader.readInstant(body, keeping: keepingLabels) { return answer }
        var response = try decodeWithJSONDecoder(body)
        if let keepingLabels { response.result = response.result.keepingLabels(keepingLabels) }
        return InstantAnswer(response)
    }

    /// ``decodeQueryResponse(_:)`` without the fast reader: the reference it is tested against.
    package static func decodeWithJSONDecoder(_ body: Data) throws -> QueryResponse {
        let client = PrometheusClient(configuration: PrometheusConfiguration(url: "http://decode.invalid"))
        let decoded = try client.decode(QueryData.self, from: HTTPResponse(status: 200, headers: [], body: body), endpoint: "/api/v1/query")
        return QueryResponse(result: decoded.data.result, warnings: decoded.warnings, infos: decoded.infos)
    }

    // MARK: - Plumbing

    private func post(_ path: String, fields: [(String, String)], timeout: Duration?, keepingLabels: Set<String>?) async throws -> QueryResponse {
        try await post(path, fields: fields, timeout: timeout, keepingLabels: keepingLabels, fast: QueryResponseReader.read, slow: { $0 })
    }

    /// Posts a query; a successful answer is read by `fast`, or (when it returns `nil`) decoded by `JSONDecoder`,
    /// which explains any error, and made into the answer by `slow`.
    private func post<Answer>(
        _ path: String, fields: [(String, String)], timeout: Duration?, keepingLabels: Set<String>?, fast: (Data, Set<String>?) -> Answer?,
        slow: (QueryResponse) -> Answer
    ) async throws -> Answer {
        var fields = fields
        if let limit = timeout ?? configuration.queryTimeout { fields.append(("timeout", PrometheusTime.format(limit))) }
        if let partial = configuration.partialResponse { fields.append(("partial_response", partial ? "true" : "false")) }
        let response = try await send(.form(url: configuration.endpoint(path), fields: fields), endpoint: path)
        if response.isSuccess, let answer = fast(response.body, keepingLabels) { return answer }
        let decoded = try decode(QueryData.self, from: response, endpoint: path)
        var result = decoded.data.result
        if let keepingLabels { result = result.keepingLabels(keepingLabels) }
        return slow(QueryResponse(result: result, warnings: decoded.warnings, infos: decoded.infos))
    }

    private func send(_ request: HTTPRequest, endpoint: String) async throws -> HTTPResponse {
        do {
            return try await http.execute(request)
        } catch let error as HTTPClientError {
            throw PrometheusError(kind: .transport, message: error.description, endpoint: endpoint, transport: error)
        }
    }

    private struct Envelope<Payload: Decodable>: Decodable {
        var status: String
        var data: Payload?
        var errorType: String?
        var error: String?
        var warnings: [String]?
        var infos: [String]?
    }

    private struct Decoded<Payload> {
        var data: Payload
        var warnings: [String]
        var infos: [String]
    }

    private func decode<Payload: Decodable>(
        _ type: Payload.Type, from response: HTTPResponse, endpoint: String
    ) throws(PrometheusError) -> Decoded<Payload> {
        let envelope: Envelope<Payload>
        do {
            envelope = try JSONDecoder().decode(Envelope<Payload>.self, from: response.body)
        } catch {
            let excerpt = Self.excerpt(response.body)
            if !response.isSuccess {
                throw PrometheusError(
                    kind: PrometheusError.kind(errorType: nil, status: response.status), status: response.status,
                    message: excerpt, endpoint: endpoint)
            }
            let reason = (error as? DecodingError).map(Self.describe) ?? String(describing: error)
            throw PrometheusError(
                kind: .invalidResponse, status: response.status,
                message: "not a Prometheus API response (\(reason)); body starts with: \(excerpt)", endpoint: endpoint)
        }
        guard envelope.status == "success", response.isSuccess, let data = envelope.data else {
            throw PrometheusError(
                kind: PrometheusError.kind(errorType: envelope.errorType, status: response.status), status: response.status,
                errorType: envelope.errorType, message: envelope.error ?? "status \"\(envelope.status)\" without data",
                endpoint: endpoint)
        }
        return Decoded(data: data, warnings: envelope.warnings ?? [], infos: envelope.infos ?? [])
    }

    private static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(160), as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
        return body.isEmpty ? "(empty)" : (body.count > 160 ? text + "…" : text)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case .dataCorrupted(let context): return context.debugDescription + path(context)
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\"" + path(context)
        case .typeMismatch(let type, let context): return "expected \(type)" + path(context)
        case .valueNotFound(let type, let context): return "missing \(type)" + path(context)
        @unknown default: return String(describing: error)
        }
    }
}

/// Times and durations in the forms the Prometheus API accepts.
public enum PrometheusTime {
    /// Unix seconds with millisecond precision, e.g. `1795726808.818`.
    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// Whole milliseconds, e.g. `1500ms` (the grammar `[0-9]+(ms|s|m|h|d|w|y)` has no smaller unit).
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))ms"
    }
}
