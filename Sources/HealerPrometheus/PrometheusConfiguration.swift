public import CurlHTTP

/// Where a Prometheus-compatible query API is and how to talk to it.
///
/// Works with Prometheus, Thanos Querier (``partialResponse``), Grafana Mimir (``pathPrefix`` `/prometheus`
/// and an `X-Scope-OrgID` header in ``http``) and VictoriaMetrics.
public struct PrometheusConfiguration: Sendable {
    /// The server's base URL, e.g. `http://127.0.0.1:9090`. A path in it is kept.
    public var url: String
    /// A path inserted before `/api/v1/...` and `/-/ready`, e.g. `/prometheus` for Mimir.
    public var pathPrefix: String
    /// Connection, timeouts, credentials, TLS and extra headers.
    public var http: HTTPClientConfiguration
    /// The server-side evaluation limit sent as `timeout` (capped by the server's `-query.timeout`).
    public var queryTimeout: Duration?
    /// When set, sent as `partial_response`; `false` makes Thanos fail a query instead of answering
    /// from some stores only.
    public var partialResponse: Bool?

    /// Creates a configuration.
    public init(
        url: String, pathPrefix: String = "", http: HTTPClientConfiguration = HTTPClientConfiguration(),
        queryTimeout: Duration? = nil, partialResponse: Bool? = nil
    ) {
        self.url = url
        self.pathPrefix = pathPrefix
        self.http = http
        self.queryTimeout = queryTimeout
        self.partialResponse = partialResponse
    }

    /// The absolute URL of `path` (which starts with `/`) under the base URL and prefix.
    func endpoint(_ path: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        var prefix = pathPrefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty, !prefix.hasPrefix("/") { prefix = "/" + prefix }
        return base + prefix + path
    }
}
