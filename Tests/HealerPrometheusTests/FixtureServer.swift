import CurlHTTP
import Foundation
import HealerPrometheus
import HealerTesting

/// Fixture files captured from Prometheus 2.42 (see Fixtures/README.md), served by a scripted loopback server.
enum Fixture {
    static func text(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw HarnessError.system("fixture \(name).json is not in the test bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Runs `body` with a client whose server answers every request with fixture `name` and `status`.
    @discardableResult
    static func withClient<R: Sendable>(
        serving name: String, status: Int = 200, _ body: (PrometheusClient, ScriptedHTTPServer) async throws -> R
    ) async throws -> R {
        let reply = ScriptedHTTPServer.Reply.json(try text(name), status: status)
        return try await ScriptedHTTPServer.with({ _ in reply }) { server in
            try await body(PrometheusClient(configuration: PrometheusConfiguration(url: server.url)), server)
        }
    }
}
