import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerServer
import HealerTesting
import Hummingbird
import Logging

/// A controller (scripted metrics, fake balancer) with its HTTP server on a free loopback port.
struct ServerHarness {
    let api: ControllerAPI
    let metrics: ScriptedMetricsSource
    let balancer: FakeBalancer
    let url: String
    let port: Int
    let client = HTTPClient()

    static func run(
        configuration: HealerConfiguration = .fixture(pendingFor: .zero), token: String? = nil,
        loader: (@Sendable () throws -> HealerConfiguration)? = nil, readTimeout: Duration = .seconds(10), maxConnections: Int = 256,
        _ body: (ServerHarness) async throws -> Void
    ) async throws {
        let logger = Logger(label: "server-test") { _ in SwiftLogNoOpLogHandler() }
        let metrics = ScriptedMetricsSource()
        let balancer = FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }])
        let journal = DecisionJournal()
        let controllerMetrics = ControllerMetrics(configuration: configuration)
        let service = ReconcilerService(
            configuration: configuration,
            dependencies: .init(metrics: metrics, actuator: RecordingActuator(), balancer: balancer, journal: journal, observer: controllerMetrics),
            clock: ContinuousClock(), logger: logger)
        let api = ControllerAPI(service: service, metrics: controllerMetrics, journal: journal, loader: loader)
        let port = try FreePort.next()
        let app = try HealerHTTPServer.application(
            api: api,
            settings: .init(
                listen: "127.0.0.1:\(port)", token: token, maxBodyBytes: 4096, readTimeout: readTimeout, maxConnections: maxConnections),
            logger: logger)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        let harness = ServerHarness(api: api, metrics: metrics, balancer: balancer, url: "http://127.0.0.1:\(port)", port: port)
        try await waitUntil("the server to listen") { (try? await harness.client.get(harness.url + "/healthz"))?.status == 200 }
        try await body(harness)
        server.cancel()
        _ = try? await server.value
    }

    func get(_ path: String, token: String? = nil) async throws -> CurlHTTP.HTTPResponse {
        try await client.execute(CurlHTTP.HTTPRequest(url: url + path, headers: token.map { [HTTPHeader("Authorization", "Bearer \($0)")] } ?? []))
    }

    func post(_ path: String, body: String = "", token: String? = nil, origin: String? = nil) async throws -> CurlHTTP.HTTPResponse {
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let origin { headers.append(HTTPHeader("Origin", origin)) }
        if let token { headers.append(HTTPHeader("Authorization", "Bearer \(token)")) }
        return try await client.execute(CurlHTTP.HTTPRequest(method: .post, url: url + path, headers: headers, body: Data(body.utf8)))
    }
}

/// An Alertmanager version 4 payload for `labels`.
func alertPayload(_ alerts: [(status: String, labels: [String: String], startsAt: String, fingerprint: String)]) -> String {
    let items = alerts.map { alert in
        let labels = alert.labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        return """
            {"status":"\(alert.status)","labels":{\(labels)},"annotations":{},"startsAt":"\(alert.startsAt)","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://p/graph","fingerprint":"\(alert.fingerprint)"}
            """
    }
    return """
        {"receiver":"healer\\\\.hook","status":"firing","alerts":[\(items.joined(separator: ","))],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","version":"4","groupKey":"{}:{}","truncatedAlerts":0}
        """
}
