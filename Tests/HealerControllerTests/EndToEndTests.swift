import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerTesting
import Logging
import Synchronization
import Testing

/// A real Prometheus scrapes a loopback exporter whose error ratio the test flips; the real reconcile loop
/// walks an incident through the whole ladder and back.
@Suite("End to end with a real Prometheus")
struct EndToEndTests {
    @Test func pendingFiringEscalationAndRecovery() async throws {
        let errorRatio = Mutex<Double>(0)
        let exporter = try ScriptedHTTPServer { request in
            guard request.path == "/metrics" else { return .text("not found", status: 404) }
            let s1 = errorRatio.withLock { $0 }
            return .text(
                """
                # TYPE test_error_ratio gauge
                test_error_ratio{server="s1"} \(s1)
                test_error_ratio{server="s2"} 0
                test_error_ratio{server="s3"} 0

                """)
        }
        defer { exporter.stop() }

        try await PrometheusServer.withRunning(configuration: PrometheusServer.scraping(exporterPort: exporter.port)) { prometheus in
            let rule = RecoveryRule(
                name: "Errors", pool: "web", expression: "test_error_ratio", unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
                pendingFor: .seconds(2), clearFor: .seconds(3), rampStep: .seconds(1),
                ladder: [
                    LadderStep(.setWeight(percent: 50), verify: .seconds(3)),
                    LadderStep(.drain(waitSessions: .seconds(1)), verify: .seconds(30)),
                ])
            var configuration = HealerConfiguration(
                balancers: ["edge": .haproxy(runtimeAPI: "tcp://127.0.0.1:1")],
                pools: ["web": PoolSettings(name: "web", balancer: "edge", backend: "be_app", servers: ["s1", "s2", "s3"], minHealthyCapacity: 0.3)],
                groups: [RuleGroup(name: "web", pool: "web", rules: [rule])])
            configuration.reconcile.interval = .milliseconds(250)
            configuration.safety.dryRun = true
            configuration.safety.targetCooldown = .zero

            let journal = DecisionJournal()
            let client = PrometheusClient(configuration: PrometheusConfiguration(url: prometheus.url))
            let service = ReconcilerService(
                configuration: configuration, dependencies: .init(metrics: PrometheusMetricsSource(client: client), journal: journal),
                clock: ContinuousClock(), logger: Logger(label: "e2e") { _ in SwiftLogNoOpLogHandler() })
            let loop = Task { try await service.run() }
            defer { loop.cancel() }

            try await waitUntil("every server to be judged healthy", timeout: .seconds(60)) {
                let verdicts = service.lastPass?.outcome.verdicts ?? []
                return verdicts.count == 3 && verdicts.allSatisfy { $0.verdict == .healthy }
            }
            errorRatio.withLock { $0 = 0.3 }
            func recorded(_ code: DecisionReason.Code, step: Int? = nil, action: DecisionAction? = nil) -> Bool {
                journal.records(server: "s1").contains {
                    $0.code == code && (step == nil || $0.step == step) && (action == nil || $0.actionType == action)
                }
            }
            try await waitUntil("pending", timeout: .seconds(30)) { recorded(.pending) }
            try await waitUntil("firing and step 1", timeout: .seconds(30)) { recorded(.stepApplied, step: 0, action: .setWeight(percent: 50)) }
            try await waitUntil("escalation to step 2", timeout: .seconds(30)) { recorded(.stepApplied, step: 1, action: .drain) }
            let escalated = journal.records(server: "s1")
            #expect(escalated.contains { $0.code == .firing })
            #expect(escalated.contains { $0.code == .escalating })
            #expect(escalated.filter { $0.kind == .action }.allSatisfy { $0.dryRun })
            // The journal has the record while its pass is still running: wait for the pass's report.
            try await waitUntil("the drain in the last pass's plan", timeout: .seconds(10)) {
                service.lastPass?.outcome.plan.simulated[TargetID(pool: "web", server: "s1")] == DesiredServerState(weightPercent: 50, admin: .drain)
            }
            #expect(service.lastPass?.outcome.plan.desired.isEmpty == true)  // dry run: nothing enforced

            errorRatio.withLock { $0 = 0 }
            try await waitUntil("recovery", timeout: .seconds(60)) { recorded(.recovered) }
            let recovered = journal.records(server: "s1")
            #expect(recovered.contains { $0.code == .recovering })
            let ramp = recovered.filter { $0.kind == .action }.compactMap(\.actionType).filter { $0.name == "restore" }
            #expect(ramp == [.restore(DesiredServerState(weightPercent: 50)), .restore(.normal)])
            #expect(service.currentState?.incidents.isEmpty == true)
        }
    }
}
