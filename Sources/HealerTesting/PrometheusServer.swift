public import CurlHTTP
import Foundation

/// A real Prometheus (the Debian package's binary) on a free loopback port, for one test.
public struct PrometheusServer: Sendable {
    /// The base URL, e.g. `http://127.0.0.1:40123` (with the route prefix, when one was given).
    public let url: String
    /// The port it listens on.
    public let port: Int
    /// Its working directory: configuration, data and log.
    public let directory: String
    /// The running process.
    public let process: ManagedProcess

    /// A scrape configuration in which Prometheus scrapes itself every second (job `prometheus`).
    public static func selfScrape(port: Int) -> String {
        """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: prometheus
            static_configs:
              - targets: ['127.0.0.1:\(port)']
        """
    }

    /// A scrape configuration in which Prometheus scrapes one loopback exporter on `port` every second (job `exporter`).
    public static func scraping(exporterPort port: Int) -> @Sendable (Int) -> String {
        { _ in
            """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: exporter
                static_configs: [ { targets: ['127.0.0.1:\(port)'] } ]
            """
        }
    }

    /// Starts Prometheus, waits for `/-/ready`, runs `body`, then stops it and deletes its data,
    /// also when `body` throws.
    ///
    /// - Parameters:
    ///   - configuration: the `prometheus.yml` text for the port Prometheus will listen on.
    ///   - webConfiguration: a `--web.config.file` text (TLS, basic auth), written next to it.
    ///   - routePrefix: serve everything under this path (`--web.route-prefix`), like a proxy in front.
    ///   - probe: HTTP settings for the readiness check (a CA for TLS); `https` is used when TLS is configured.
    ///   - extraArguments: more flags.
    @discardableResult
    public static func withRunning<R: Sendable>(
        configuration: @Sendable (Int) -> String = selfScrape(port:),
        webConfiguration: String? = nil,
        routePrefix: String? = nil,
        probe: HTTPClientConfiguration = HTTPClientConfiguration(connectTimeout: .seconds(1), timeout: .seconds(2)),
        extraArguments: [String] = [],
        _ body: (PrometheusServer) async throws -> R
    ) async throws -> R {
        let executable = try Executable.find("prometheus", package: "prometheus")
        return try await TemporaryDirectory.with(prefix: "prometheus") { directory in
            var lastError: (any Error)?
            // A port found free can be taken by someone else before Prometheus binds it: try a few.
            for _ in 0..<3 {
                let port = try FreePort.next()
                try directory.write("prometheus.yml", configuration(port))
                var arguments = [
                    "--config.file=\(directory.path)/prometheus.yml",
                    "--storage.tsdb.path=\(directory.path)/data",
                    "--web.listen-address=127.0.0.1:\(port)",
                    "--web.enable-lifecycle",
                ]
                if let webConfiguration {
                    arguments.append("--web.config.file=\(try directory.write("web.yml", webConfiguration))")
                }
                if let routePrefix { arguments.append("--web.route-prefix=\(routePrefix)") }
                let scheme = webConfiguration?.contains("tls_server_config") == true ? "https" : "http"
                let base = "\(scheme)://127.0.0.1:\(port)\(routePrefix ?? "")"
                let specification = ManagedProcess.Specification(
                    name: "prometheus", executable: executable, arguments: arguments + extraArguments,
                    directory: directory.path, readiness: .http(url: base + "/-/ready", client: probe))
                do {
                    return try await ManagedProcess.withRunning(specification) { process in
                        try await body(PrometheusServer(url: base, port: port, directory: directory.path, process: process))
                    }
                } catch HarnessError.exitedEarly(let name, let status, let log) where log.contains("address already in use") {
                    lastError = HarnessError.exitedEarly(name: name, status: status, log: log)
                }
            }
            throw lastError!
        }
    }
}
