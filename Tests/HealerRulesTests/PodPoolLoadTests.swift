import Foundation
import HealerCore
import HealerRules
import HealerTesting
import Testing

/// Pools of Kubernetes pods load from `namespace` and `selector`, with a kubernetes balancer and pod actuators;
/// what has no meaning for pods is refused at load, naming the file, line and field.
@Suite("Pools of pods at load")
struct PodPoolLoadTests {
    /// Loads a configuration with `pools` and `extra` sections and one rule with `ladder`: what loaded, and the errors.
    static func load(pools: String, ladder: String = "[{ drain: { wait_sessions: 10s } }, { restart: restart-pod }]", extra: String = "")
        async throws -> (HealerConfiguration?, [String])
    {
        try await TemporaryDirectory.with(prefix: "pods") { directory in
            try directory.write(
                "rules.yaml",
                "groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: \"> 1\", healthy: \"< 1\", ladder: \(ladder) }] }]")
            try directory.write(
                "healer.yaml",
                """
                prometheus: { url: "http://127.0.0.1:9090" }
                balancers:
                  cluster: { kubernetes: { readiness_gate: example.com/serving } }
                actuators:
                  restart-pod: { kubernetes: { action: delete, grace_period: 20s } }
                  evict-pod: { kubernetes: { action: evict } }
                pools:
                \(pools)
                rules: [rules.yaml]
                \(extra)
                """)
            let path = directory.path + "/healer.yaml"
            return (try? ConfigurationLoader.load(path: path), FixtureDirectory.errors(loading: path))
        }
    }

    @Test func aPoolOfPodsLoads() async throws {
        let (loaded, errors) = try await Self.load(pools: "  web: { balancer: cluster, namespace: shop, selector: \"app=web,tier in (gold)\" }")
        let configuration = try #require(loaded, "\(errors)")
        let pool = try #require(configuration.pools["web"])
        #expect(pool.backend == "shop" && pool.selector == "app=web,tier in (gold)")
        #expect(pool.serverTemplate == TargetTemplate(label: "pod") && pool.backendTemplate == TargetTemplate(label: "namespace"))
        #expect(configuration.balancers["cluster"] == .kubernetes(KubernetesSettings(readinessGate: "example.com/serving")))
        #expect(configuration.actuators["restart-pod"] == .kubernetes(.delete, gracePeriod: .seconds(20)))
        #expect(configuration.actuators["evict-pod"] == .kubernetes(.evict, gracePeriod: nil))
    }

    @Test(arguments: [
        ("  web: { balancer: cluster, namespace: shop, selector: app=web }", "[{ set_weight: 25% }]", "set_weight has no meaning for pods"),
        ("  web: { balancer: cluster, namespace: shop }", "[{ drain: {} }]", "needs both \"namespace\" and \"selector\""),
        ("  web: { balancer: cluster, namespace: Shop_1, selector: app=web }", "[{ drain: {} }]", "not a namespace name"),
        ("  web: { balancer: cluster, namespace: shop, selector: app=web, servers: [a] }", "[{ drain: {} }]", "a pool of pods has no \"servers\""),
        ("  web: { balancer: cluster, backend: be }", "[{ drain: {} }]", "a kubernetes balancer serves pools of pods"),
        ("  web: { namespace: shop, selector: app=web }", "[{ drain: {} }]", "a pool of pods needs a kubernetes balancer"),
    ])
    func whatHasNoMeaningForPodsIsRefused(pools: String, ladder: String, message: String) async throws {
        let (loaded, errors) = try await Self.load(pools: pools, ladder: ladder)
        #expect(loaded == nil)
        #expect(
            errors.contains { $0.contains(message) && $0.contains("healer.yaml:") || $0.contains("rules.yaml:") && $0.contains(message) }, "\(errors)"
        )
    }

    @Test func aPodActuatorInAPoolOfServersIsRefused() async throws {
        let (second, secondErrors) = try await Self.load(
            pools: "  web: { backend: be }", ladder: "[{ restart: restart-pod }]")
        #expect(second == nil)
        #expect(
            secondErrors.contains { $0.contains("actuator \"restart-pod\" acts on pods, and pool \"web\" is not a pool of pods") }, "\(secondErrors)")
    }
}
