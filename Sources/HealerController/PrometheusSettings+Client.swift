import CurlHTTP
public import HealerCore
public import HealerPrometheus

extension PrometheusConfiguration {
    /// The client configuration for the `prometheus:` section of `healer.yaml`.
    public init(settings: PrometheusSettings) {
        var authorization: HTTPAuthorization?
        if let file = settings.bearerTokenFile {
            authorization = .bearerTokenFile(path: file)
        } else if let username = settings.basicAuthUsername {
            authorization = .basic(username: username, password: settings.basicAuthPassword ?? "")
        }
        self.init(
            url: settings.url, pathPrefix: settings.pathPrefix,
            http: HTTPClientConfiguration(
                connectTimeout: min(.seconds(5), settings.timeout), timeout: settings.timeout, authorization: authorization,
                tls: TLSConfiguration(
                    caFile: settings.caFile, certificateFile: settings.certFile, keyFile: settings.keyFile,
                    insecureSkipVerify: settings.insecureSkipVerify),
                headers: settings.headers.sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value) }),
            queryTimeout: settings.queryTimeout, partialResponse: settings.partialResponse)
    }
}
