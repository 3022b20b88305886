import FakeKubernetes
import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerPrometheus
import HealerTesting
import Logging
import ReplicaHarness
import Synchronization
import Testing

/// A pool of pods end to end: a real Prometheus scrapes an exporter that labels its series by `pod` and
/// `namespace`; the pods live in the fake API server. One pod's error ratio rises: Healer drains it by its
/// readiness gate, restarts it, brings its replacement into service, and `kubectl get events` shows each step.
@Suite("A pool of pods, end to end")
struct PodPoolSystemTests {
    static let gate = KubernetesSettings.defaultReadinessGate

    /// A running pod of the pool: the same as the failover tests use.
    static func pod(_ name: String) -> JSONValue { ReplicaPair.pod(name) }

    static func gateStatus(_ server: FakeKubernetesAPIServer, _ pod: String) -> String? {
        server.object("pods", namespace: "shop", name: pod)?.value(at: "status.conditions")?.array?
            .first { $0["type"]?.string == gate }?["status"]?.string
    }

    @Test func aSickPodIsDrainedRestartedAndReplacedWithEveryStepAnEvent() async throws {
        try await FakeKubernetesAPIServer.with { cluster in  // kubectl sends no credentials over plain HTTP
            try cluster.create(["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web-7d9c", "namespace": "shop"]])
            for name in ["web-a", "web-b", "web-c"] { try cluster.create(Self.pod(name)) }
            let sick = Mutex<Set<String>>([])
            // The exporter: one series per pod the API server has, as an exporter scraped per pod would label it.
            try await ScriptedHTTPServer.with({ _ in
                let pods = cluster.objects("pods", namespace: "shop").compactMap { $0.value(at: "metadata.name")?.string }
                let unhealthy = sick.withLock { $0 }
                let lines = pods.map { "pod_error_ratio{namespace=\"shop\",pod=\"\($0)\"} \(unhealthy.contains($0) ? 0.4 : 0)" }
                return .text("# TYPE pod_error_ratio gauge\n" + lines.joined(separator: "\n") + "\n")
            }) { exporter in
                try await PrometheusServer.withRunning(configuration: PrometheusServer.scraping(exporterPort: exporter.port)) { prometheus in
                    var configuration = HealerConfiguration(
                        balancers: ["cluster": .kubernetes(KubernetesSettings())],
                        actuators: ["restart-pod": .kubernetes(.delete, gracePeriod: .seconds(1))],
                        pools: [
                            "web": PoolSettings(
                                name: "web", balancer: "cluster", backend: "shop", minHealthyCapacity: 0.5,
                                serverTemplate: TargetTemplate(label: "pod"),
                                backendTemplate: TargetTemplate(label: "namespace"))
                        ],
                        groups: [
                            RuleGroup(
                                name: "web", pool: "web",
                                rules: [
                                    RecoveryRule(
                                        name: "PodErrorRatio", pool: "web", expression: "pod_error_ratio", unhealthy: Threshold(.greater, 0.05),
                                        healthy: Threshold(.less, 0.01), pendingFor: .seconds(1), clearFor: .seconds(60),
                                        ladder: [
                                            LadderStep(.drain(waitSessions: .zero), verify: .seconds(3)),
                                            LadderStep(.restart(actuator: "restart-pod"), verify: .seconds(60)),
                                            LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
                                        ])
                                ])
                        ])
                    configuration.pools["web"]?.selector = "app=web"
                    configuration.prometheus.url = prometheus.url
                    configuration.reconcile.interval = .milliseconds(500)
                    configuration.safety.targetCooldown = .zero
                    configuration.safety.maxActionsPerMinute = 60
                    let clusters = KubernetesClusters(
                        configuration: configuration, connections: ["cluster": KubernetesConnection(server: cluster.url, namespace: "shop")])
                    let service = ReconcilerService(
                        configuration: configuration,
                        dependencies: .init(
                            metrics: PrometheusMetricsSource(client: PrometheusClientFactory.make(url: prometheus.url)),
                            actuator: ActuatorRouter(configuration: configuration, kubernetes: clusters),
                            balancer: BalancerSet(configuration: configuration, makeDriver: BalancerDrivers.standard(kubernetes: clusters))),
                        clock: ContinuousClock(), logger: Logger(label: "pods") { _ in SwiftLogNoOpLogHandler() })
                    let loop = Task { try await service.run() }
                    defer { loop.cancel() }

                    try await waitUntil("every pod admitted and judged healthy", timeout: .seconds(30)) {
                        let verdicts = service.lastPass?.outcome.verdicts ?? []
                        return ["web-a", "web-b", "web-c"].allSatisfy { Self.gateStatus(cluster, $0) == "True" } && verdicts.count == 3
                            && verdicts.allSatisfy { $0.verdict == .healthy }
                    }
                    sick.withLock { $0 = ["web-b"] }
                    try await waitUntil("web-b drained by its gate", timeout: .seconds(30)) { Self.gateStatus(cluster, "web-b") == "False" }
                    try await waitUntil("web-b restarted", timeout: .seconds(30)) { cluster.object("pods", namespace: "shop", name: "web-b") == nil }
                    let deletion = try #require(cluster.requests.first { $0.method == "DELETE" })
                    #expect(deletion.path == "/api/v1/namespaces/shop/pods/web-b" && deletion.body.contains(#""uid""#))
                    let replacement = try #require(
                        cluster.objects("pods", namespace: "shop").compactMap { $0.value(at: "metadata.name")?.string }.first {
                            $0.hasPrefix("web-7d9c-")
                        })
                    try await waitUntil("the replacement in service", timeout: .seconds(30)) { Self.gateStatus(cluster, replacement) == "True" }
                    // Never more than one pod out of service at a time, and the others never touched.
                    #expect(Self.gateStatus(cluster, "web-a") == "True" && Self.gateStatus(cluster, "web-c") == "True")

                    try await TemporaryDirectory.with(prefix: "kubectl") { directory in
                        let kubeconfig = try cluster.writeKubeconfig(in: directory.path, namespace: "shop")
                        let events = try await eventually("kubectl showing the drain and the restart", timeout: .seconds(15)) { () -> String? in
                            let text = try await Command.run(
                                ["kubectl", "--kubeconfig", kubeconfig, "get", "events", "--field-selector", "involvedObject.name=web-b"],
                                package: "kubernetes-client", in: directory.path)
                            return text.contains("Drain") && text.contains("Restart") ? text : nil
                        }
                        let lines = events.split(separator: "\n")
                        #expect(
                            lines.contains {
                                $0.contains("Warning") && $0.contains("Drain") && $0.contains("pod/web-b") && $0.contains("step 1: drain")
                            })
                        #expect(lines.contains { $0.contains("Restart") && $0.contains("step 2: restart restart-pod") })
                    }
                    loop.cancel()
                    _ = try? await loop.value
                }
            }
        }
    }
}
