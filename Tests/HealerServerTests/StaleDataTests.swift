import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerServer
import HealerTesting
import Hummingbird
import Logging
import Synchronization
import Testing

/// An exporter that publishes samples with explicit timestamps and stops advancing them: Prometheus keeps answering
/// with the last value for its lookback window, and Healer must call the data stale.
@Suite("Stale data, with a real Prometheus")
struct StaleDataTests {
    @Test func dataBehindARuleThatStopsAdvancingIsUnknownAndActedOnByNothing() async throws {
        let start = Date()
        // s1 says 0.3 (unhealthy) with a timestamp already 20 s old, and never a newer one: an exporter that is stuck.
        let s1Stamp = Int64((start.timeIntervalSince1970 - 20) * 1000)
        // s3 advances until the test freezes it.
        let s3Frozen = Mutex<Int64?>(nil)
        let exporter = try ScriptedHTTPServer { request in
            guard request.path == "/metrics" else { return .text("not found", status: 404) }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let s3 = s3Frozen.withLock { $0 } ?? now
            return .text(
                """
                # TYPE test_error_ratio gauge
                test_error_ratio{server="s1"} 0.3 \(s1Stamp)
                test_error_ratio{server="s2"} 0 \(now)
                test_error_ratio{server="s3"} 0 \(s3)
                # TYPE test_latency_seconds gauge
                test_latency_seconds{server="s1"} 0.01
                test_latency_seconds{server="s2"} 0.01
                test_latency_seconds{server="s3"} 0.01

                """)
        }
        defer { exporter.stop() }
        try await PrometheusServer.withRunning(configuration: PrometheusServer.scraping(exporterPort: exporter.port)) { prometheus in
            let rule = RecoveryRule(
                name: "Errors", pool: "web", expression: "test_error_ratio", unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
                maxSampleAge: .seconds(5), ladder: [LadderStep(.setWeight(percent: 25), verify: .seconds(10))])
            // A second rule, fresh everywhere: the pool's freshness query has two clauses, split back per rule.
            let latency = RecoveryRule(
                name: "Latency", pool: "web", expression: "max by (server) (test_latency_seconds)", unhealthy: Threshold(.greater, 0.5),
                healthy: Threshold(.less, 0.2), maxSampleAge: .seconds(5), ladder: [LadderStep(.setWeight(percent: 25), verify: .seconds(10))])
            var configuration = HealerConfiguration.fixture()
            configuration.groups = [RuleGroup(name: "web", pool: "web", rules: [rule, latency])]
            configuration.prometheus.url = prometheus.url
            configuration.reconcile.interval = .milliseconds(250)
            let logger = Logger(label: "stale") { _ in SwiftLogNoOpLogHandler() }
            let journal = DecisionJournal()
            let metrics = ControllerMetrics(configuration: configuration)
            let balancer = FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }])
            let service = ReconcilerService(
                configuration: configuration,
                dependencies: .init(
                    metrics: PrometheusMetricsSource(client: PrometheusClient(configuration: .init(url: prometheus.url))), balancer: balancer,
                    journal: journal, observer: metrics),
                clock: ContinuousClock(), logger: logger)
            let port = try FreePort.next()
            let api = ControllerAPI(service: service, metrics: metrics, journal: journal)
            let app = try HealerHTTPServer.application(api: api, settings: .init(listen: "127.0.0.1:\(port)"), logger: logger)
            let server = Task { try await app.run() }
            let loop = Task { try await service.run() }
            defer {
                server.cancel()
                loop.cancel()
            }
            /// Per server: the rule's verdict and why it is unknown, as `GET /api/v1/status` says.
            func status() async throws -> [String: (verdict: String?, reason: String?)] {
                let response = try await HTTPClient().get("http://127.0.0.1:\(port)/api/v1/status")
                let json = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
                let pools = json?["pools"] as? [[String: Any]] ?? []
                var result: [String: (String?, String?)] = [:]
                for server in pools.first?["servers"] as? [[String: Any]] ?? [] {
                    guard let name = server["server"] as? String else { continue }
                    let verdict = (server["verdicts"] as? [String: String])?["Errors"]
                    let reason = (server["unknownReasons"] as? [String: String])?["Errors"]
                    result[name] = (verdict, reason)
                }
                return result
            }

            try await waitUntil("s2 and s3 healthy, s1 stale", timeout: .seconds(60)) {
                let servers = try await status()
                return servers["s1"]?.reason == "stale" && servers["s2"]?.verdict == "healthy" && servers["s3"]?.verdict == "healthy"
            }
            #expect(try await status()["s1"]?.verdict == "unknown")
            #expect(service.engine.freshnessChecks.map(\.rules) == [["Errors", "Latency"]])
            let latencyVerdicts = (service.lastPass?.outcome.verdicts ?? []).filter { $0.key.rule == "Latency" }
            #expect(latencyVerdicts.count == 3)
            #expect(latencyVerdicts.allSatisfy { $0.verdict == .healthy }, "\(latencyVerdicts)")
            let said = try #require(journal.records(pool: "web").first { $0.kind == .rule && $0.unknownReason == .stale })
            #expect(said.rule == "Errors")
            #expect(said.server == "s1")

            // s3's exporter gets stuck too: after max_sample_age its data is stale as well.
            s3Frozen.withLock { $0 = Int64(Date().timeIntervalSince1970 * 1000) }
            try await waitUntil("s3 stale", timeout: .seconds(30)) { try await status()["s3"]?.reason == "stale" }
            #expect(try await status()["s2"]?.verdict == "healthy")
            try await waitUntil("a record naming s3", timeout: .seconds(10)) {
                journal.records(pool: "web").contains { $0.kind == .rule && $0.unknownReason == .stale && $0.server == "s3" }
            }

            // Healer never acted on the stale 0.3, nor opened an incident for it.
            #expect(!journal.records(pool: "web").contains { $0.kind == .action || $0.kind == .suppressed })
            #expect(journal.records(server: "s1").allSatisfy { $0.kind == .rule })
            #expect(service.currentState?.incidents.isEmpty == true)
            #expect(balancer.current(TargetID(pool: "web", server: "s1")) == .normal)
        }
    }
}
