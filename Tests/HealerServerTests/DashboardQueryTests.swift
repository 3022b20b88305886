import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerServer
import HealerTesting
import Testing

/// Every query of `dashboards/healer.json` runs without error and returns data against a real Prometheus
/// scraping a real Healer.
@Suite("Grafana dashboard")
struct DashboardQueryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The panel titles and queries of the dashboard, with Grafana's variables filled in.
    static func queries() throws -> [(panel: String, expr: String)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/dashboards/healer.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        return panels.flatMap { panel in
            let title = panel["title"] as? String ?? "?"
            return (panel["targets"] as? [[String: Any]] ?? []).compactMap { target in
                (target["expr"] as? String).map { (title, $0.replacingOccurrences(of: "$pool", with: ".*")) }
            }
        }
    }

    @Test func everyPanelQueryReturnsData() async throws {
        let queries = try Self.queries()
        #expect(queries.count >= 14)
        var configuration = HealerConfiguration.fixture(pendingFor: .zero)
        configuration.reconcile.interval = .milliseconds(300)
        try await ServerHarness.run(configuration: configuration) { harness in
            harness.metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
            let loop = Task { try await harness.api.service.run() }
            defer { loop.cancel() }
            let target = harness.url.replacingOccurrences(of: "http://", with: "")
            let scrape: @Sendable (Int) -> String = { _ in
                "global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: healer\n    static_configs: [ { targets: ['\(target)'] } ]\n"
            }
            try await PrometheusServer.withRunning(configuration: scrape) { prometheus in
                let client = PrometheusClient(configuration: .init(url: prometheus.url))
                // Rates need two scrapes.
                try await waitUntil("two scrapes of Healer", timeout: .seconds(60)) {
                    guard case .vector(let samples) = try await client.query(#"count_over_time(up{job="healer"}[1m])"#).result else { return false }
                    return (samples.first?.value ?? 0) >= 3
                }
                for (panel, expr) in queries {
                    do {
                        let response = try await client.query(expr)
                        guard case .vector(let samples) = response.result else {
                            Issue.record("\(panel): \(expr) returned a \(response.result.resultType)")
                            continue
                        }
                        #expect(!samples.isEmpty, "\(panel): \(expr) returned no data")
                        #expect(response.warnings.isEmpty, "\(panel): \(response.warnings)")
                    } catch {
                        Issue.record("\(panel): \(expr) failed: \(error)")
                    }
                }
            }
        }
    }

    @Test func theDashboardHasADatasourceVariableAndEveryPanelUsesIt() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/dashboards/healer.json"))
        let text = String(decoding: data, as: UTF8.self)
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let variables = ((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]]) ?? []
        #expect(variables.contains { $0["type"] as? String == "datasource" && $0["name"] as? String == "datasource" })
        let panels = dashboard["panels"] as? [[String: Any]] ?? []
        #expect(panels.allSatisfy { (($0["datasource"] as? [String: Any])?["uid"] as? String) == "${datasource}" })
        #expect(!text.contains("DS_PROMETHEUS"))
    }
}
