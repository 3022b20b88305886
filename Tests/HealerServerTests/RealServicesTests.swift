import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerServer
import HealerTesting
import Hummingbird
import Logging
import Prometheus
import Synchronization
import Testing

/// Healer's server with real neighbours: Prometheus scraping it, and Alertmanager delivering a real alert.
@Suite("Controller server with a real Prometheus and Alertmanager")
struct RealServicesTests {
    @Test func aRealPrometheusScrapesHealersMetrics() async throws {
        try await ServerHarness.run { harness in
            let target = harness.url.replacingOccurrences(of: "http://", with: "")
            let scrape: @Sendable (Int) -> String = { _ in
                "global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: healer\n    static_configs: [ { targets: ['\(target)'] } ]\n"
            }
            try await PrometheusServer.withRunning(configuration: scrape) { prometheus in
                let client = PrometheusClient(configuration: .init(url: prometheus.url))
                let up = try await eventually("Prometheus to scrape Healer") { () -> Double? in
                    guard case .vector(let samples) = try await client.query(#"up{job="healer"}"#).result else { return nil }
                    return samples.first?.value
                }
                #expect(up == 1)
                let targets = try await client.targets().activeTargets
                #expect(targets.first?.lastError.isEmpty == true)
                guard case .vector(let series) = try await client.query(#"healer_actions_suppressed_total{reason="storm"}"#).result else {
                    Issue.record("no vector")
                    return
                }
                #expect(series.count == 1)
            }
        }
    }

    @Test func anAlertFromARealAlertmanagerIsConfirmedAndActedOnOnce() async throws {
        let ratio = Mutex<Double>(0)
        let exporter = try ScriptedHTTPServer { _ in
            let value = ratio.withLock { $0 }
            return .text("test_error_ratio{server=\"s1\"} \(value)\ntest_error_ratio{server=\"s2\"} 0\ntest_error_ratio{server=\"s3\"} 0\n")
        }
        defer { exporter.stop() }
        let alertmanagerBinary = try Executable.find("prometheus-alertmanager", package: "prometheus-alertmanager")
        let logger = Logger(label: "am-test") { _ in SwiftLogNoOpLogHandler() }

        try await TemporaryDirectory.with(prefix: "alertmanager") { directory in
            // Healer first: Alertmanager needs its URL.
            let rule = RecoveryRule(
                name: "Errors", pool: "web", expression: "test_error_ratio", unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
                pendingFor: .seconds(3600), ladder: [LadderStep(.setWeight(percent: 25), verify: .seconds(3600))])
            var healer = HealerConfiguration.fixture(pendingFor: .seconds(3600))
            healer.groups = [RuleGroup(name: "web", pool: "web", rules: [rule])]
            let amPort = try FreePort.next()
            let healerPort = try FreePort.next()
            let alertRules = try directory.write(
                "alerts.yml",
                """
                groups:
                  - name: healer
                    rules:
                      - alert: HighErrorRatio
                        expr: test_error_ratio > 0.05
                        labels: { healer_rule: Errors, severity: page }
                """)
            try directory.write(
                "am.yml",
                """
                route:
                  receiver: healer
                  group_by: [alertname, server]
                  group_wait: 1s
                  group_interval: 2s
                  repeat_interval: 1m
                receivers:
                  - name: healer
                    webhook_configs:
                      - url: "http://127.0.0.1:\(healerPort)/api/v1/alerts"
                        send_resolved: true
                """)
            let scrape: @Sendable (Int) -> String = { _ in
                """
                global: { scrape_interval: 1s, evaluation_interval: 1s }
                rule_files: ['\(alertRules)']
                alerting:
                  alertmanagers: [ { static_configs: [ { targets: ['127.0.0.1:\(amPort)'] } ] } ]
                scrape_configs:
                  - job_name: app
                    static_configs: [ { targets: ['127.0.0.1:\(exporter.port)'] } ]
                """
            }
            let am = ManagedProcess.Specification(
                name: "alertmanager", executable: alertmanagerBinary,
                arguments: [
                    "--config.file=\(directory.path)/am.yml", "--storage.path=\(directory.path)/am-data", "--web.listen-address=127.0.0.1:\(amPort)",
                    "--cluster.listen-address=",
                ],
                directory: directory.path, readiness: .http(url: "http://127.0.0.1:\(amPort)/-/ready"))
            try await ManagedProcess.withRunning(am) { _ in
                try await PrometheusServer.withRunning(configuration: scrape) { prometheus in
                    healer.prometheus.url = prometheus.url
                    let journal = DecisionJournal()
                    let metrics = ControllerMetrics(configuration: healer)
                    let balancer = FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }])
                    let service = ReconcilerService(
                        configuration: healer,
                        dependencies: .init(
                            metrics: PrometheusMetricsSource(client: PrometheusClient(configuration: .init(url: prometheus.url))), balancer: balancer,
                            journal: journal, observer: metrics),
                        clock: ContinuousClock(), logger: logger)
                    var configuration = healer
                    configuration.reconcile.interval = .milliseconds(500)
                    service.reload(configuration)
                    let api = ControllerAPI(service: service, metrics: metrics, journal: journal)
                    let app = try HealerHTTPServer.application(api: api, settings: .init(listen: "127.0.0.1:\(healerPort)"), logger: logger)
                    let server = Task { try await app.run() }
                    let loop = Task { try await service.run() }
                    defer {
                        server.cancel()
                        loop.cancel()
                    }
                    try await waitUntil("servers judged healthy", timeout: .seconds(60)) {
                        (service.lastPass?.outcome.verdicts ?? []).filter { $0.verdict == .healthy }.count == 3
                    }
                    ratio.withLock { $0 = 0.3 }
                    try await waitUntil("the alert to be confirmed and acted on", timeout: .seconds(60)) {
                        journal.records(server: "s1").contains { $0.code == .stepApplied && $0.step == 0 && $0.actionType == .setWeight(percent: 25) }
                    }
                    #expect(
                        journal.records(server: "s1").contains {
                            $0.code == .alertConfirmed && $0.why == .alertConfirmed(alert: "HighErrorRatio")
                        })
                    #expect(balancer.current(TargetID(pool: "web", server: "s1")) == DesiredServerState(weightPercent: 25))

                    // The fault ends: the alert resolves, and a resolved alert undoes nothing by itself.
                    ratio.withLock { $0 = 0 }
                    try await waitUntil("the resolved notification", timeout: .seconds(60)) {
                        metrics.registry.emitToString().contains(#"healer_alerts_received_total{status="resolved"} 1"#)
                    }
                    let actions = journal.records(server: "s1").filter { $0.kind == .action }
                    #expect(actions.count == 1)  // re-deliveries did not act twice, the resolution undid nothing
                    #expect(balancer.current(TargetID(pool: "web", server: "s1")) == DesiredServerState(weightPercent: 25))
                }
            }
        }
    }
}
