import Foundation
import HealerController
import HealerCore
import HealerHAProxy
import HealerTesting
import Logging

/// Three demo backends behind a real HAProxy (health checks on), a real Prometheus scraping HAProxy's
/// exporter every second, and a real reconcile loop driving HAProxy through its runtime API.
struct SystemFixture {
    let backends: DemoBackends
    let haproxy: HAProxyServer
    let prometheus: PrometheusServer
    let journal: DecisionJournal
    let service: ReconcilerService<ContinuousClock>
    let runtime: RuntimeClient

    /// The 5xx ratio per server over the last 3 s, 0 when a server has no traffic (drained), so that a drained
    /// server reads healthy and is given traffic back gradually once `clear_for` has passed.
    static let errorRatio = """
        sum by (proxy, server) (rate(haproxy_server_http_responses_total{proxy="be_app",code="5xx"}[3s]))
        / clamp_min(sum by (proxy, server) (rate(haproxy_server_http_responses_total{proxy="be_app"}[3s])), 1e-9)
        """

    static func run(
        servers: [String] = ["s1", "s2", "s3"], spares: [String] = [], rules: [RecoveryRule], scale: [ScaleRule] = [], floor: Double = 0.3,
        actuators: @escaping @Sendable (DemoBackends) -> [String: ActuatorSettings] = { _ in [:] }, scrapeBackends: Bool = false,
        _ body: (SystemFixture) async throws -> Void
    ) async throws {
        try await DemoBackends.withRunning(names: servers + spares) { backends in
            let configuration: @Sendable (HAProxyServer.Ports) -> String = { ports in
                HAProxyServer.configuration(
                    ports: ports,
                    servers: backends.instances.map { .init(name: $0.name, port: $0.port, disabled: spares.contains($0.name)) })
            }
            try await HAProxyServer.withRunning(configuration: configuration) { haproxy in
                let demoTargets = backends.instances.map { "      - { targets: ['127.0.0.1:\($0.port)'], labels: { server: \($0.name) } }" }
                let scrape: @Sendable (Int) -> String = { _ in
                    """
                    global: { scrape_interval: 1s, evaluation_interval: 1s }
                    scrape_configs:
                      - job_name: haproxy
                        static_configs: [ { targets: ['\(haproxy.metricsTarget)'] } ]
                    """ + (scrapeBackends ? "\n  - job_name: demo\n    static_configs:\n" + demoTargets.joined(separator: "\n") + "\n" : "")
                }
                try await PrometheusServer.withRunning(configuration: scrape) { prometheus in
                    var healer = HealerConfiguration(
                        balancers: ["edge": .haproxy(runtimeAPI: haproxy.runtimeAddress)], actuators: actuators(backends),
                        pools: [
                            "web": PoolSettings(
                                name: "web", balancer: "edge", backend: "be_app", servers: servers, spares: spares, minHealthyCapacity: floor,
                                maxInFlight: 1, serverTemplate: TargetTemplate(label: "server"),
                                backendTemplate: scrapeBackends ? nil : TargetTemplate(label: "proxy"))
                        ],
                        groups: [RuleGroup(name: "web", pool: "web", rules: rules, scale: scale)])
                    healer.prometheus.url = prometheus.url
                    healer.reconcile.interval = .milliseconds(500)
                    healer.safety.targetCooldown = .zero
                    healer.safety.maxActionsPerMinute = 60
                    let journal = DecisionJournal()
                    let client = PrometheusClientFactory.make(url: prometheus.url)
                    let service = ReconcilerService(
                        configuration: healer,
                        dependencies: .init(
                            metrics: PrometheusMetricsSource(client: client), actuator: ActuatorRouter(configuration: healer),
                            balancer: BalancerSet(configuration: healer, makeDriver: BalancerDrivers.standard()), journal: journal),
                        clock: ContinuousClock(), logger: Logger(label: "system") { _ in SwiftLogNoOpLogHandler() })
                    let loop = Task { try await service.run() }
                    defer { loop.cancel() }
                    let fixture = SystemFixture(
                        backends: backends, haproxy: haproxy, prometheus: prometheus, journal: journal, service: service,
                        runtime: RuntimeClient(address: RuntimeAddress(parsing: haproxy.runtimeAddress)!))
                    try await body(fixture)
                    loop.cancel()
                    _ = try? await loop.value
                }
            }
        }
    }

    /// HAProxy's view of `server` now.
    func state(of server: String) async throws -> ServerRuntimeState {
        let states = try RuntimeParsers.serversState(try await runtime.execute(.showServersState(backend: "be_app")))
        return states.first { $0.server == server }!
    }

    /// The reasons recorded for `server`, oldest first.
    /// Whether `server`'s journal has a record with `code` (and, when given, ladder step `step`, counted from 0,
    /// and action `action`).
    func recorded(_ server: String, _ code: DecisionReason.Code, step: Int? = nil, action: DecisionAction? = nil) -> Bool {
        journal.records(server: server).contains { record in
            record.code == code && (step == nil || record.step == step) && (action == nil || record.actionType == action)
        }
    }
}
