import ArgumentParser
import CurlHTTP
import Foundation
import HealerCore
import HealerPrometheus

/// How a command reaches Prometheus; shared by every command that queries it.
struct PrometheusOptions: ParsableArguments {
    @Option(
        name: .customLong("prometheus"),
        help: ArgumentHelp("Prometheus base URL (env HEALER_PROMETHEUS_URL).", valueName: "url"))
    var url: String = Environment.value("HEALER_PROMETHEUS_URL") ?? "http://127.0.0.1:9090"

    @Option(help: ArgumentHelp("Path before /api/v1, e.g. /prometheus for Mimir.", valueName: "path"))
    var pathPrefix: String = ""

    @Option(help: ArgumentHelp("Give up after this long, e.g. 10s, 1500ms.", valueName: "duration"))
    var timeout: DurationArgument = DurationArgument(.seconds(30))

    @Option(help: ArgumentHelp("Send 'Authorization: Bearer' with the token in this file (re-read when it changes).", valueName: "file"))
    var bearerTokenFile: String?

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp("Extra request header, repeatable, e.g. 'X-Scope-OrgID: team-a'.", valueName: "name: value"))
    var headers: [HeaderArgument] = []

    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file.", valueName: "file"))
    var caFile: String?

    @Option(help: ArgumentHelp("Client certificate (PEM) for mutual TLS.", valueName: "file"))
    var certFile: String?

    @Option(help: ArgumentHelp("Private key (PEM) of --cert-file.", valueName: "file"))
    var keyFile: String?

    @Flag(help: "Do not verify the server's TLS certificate (labs only).")
    var insecureSkipVerify = false

    func validate() throws {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ValidationError("--prometheus must be an http:// or https:// URL, got '\(url)'")
        }
        if (certFile == nil) != (keyFile == nil) { throw ValidationError("--cert-file and --key-file go together") }
    }

    var configuration: PrometheusConfiguration {
        PrometheusConfiguration(
            url: url, pathPrefix: pathPrefix,
            http: HTTPClientConfiguration(
                connectTimeout: min(.seconds(5), timeout.duration), timeout: timeout.duration,
                authorization: bearerTokenFile.map { .bearerTokenFile(path: $0) },
                tls: TLSConfiguration(caFile: caFile, certificateFile: certFile, keyFile: keyFile, insecureSkipVerify: insecureSkipVerify),
                headers: headers.map(\.header)))
    }
}

/// A `name: value` header given on the command line.
struct HeaderArgument: ExpressibleByArgument {
    var header: HTTPHeader

    init?(argument: String) {
        guard let colon = argument.firstIndex(of: ":") else { return nil }
        let name = argument[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        header = HTTPHeader(name, argument[argument.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
}

/// A Prometheus-style duration given on the command line (`500ms`, `10s`, `1m30s`).
struct DurationArgument: ExpressibleByArgument {
    var duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        guard let duration = PrometheusDuration.parse(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { PrometheusDuration.format(duration) }
}
