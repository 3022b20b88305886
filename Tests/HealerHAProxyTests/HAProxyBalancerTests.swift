import Foundation
import HealerCore
import HealerHAProxy
import HealerTesting
import Testing

/// The balancer driver against a real HAProxy: inventory, diffs, read-back, reloads, unreachability.
@Suite("Balancer driver against a real HAProxy")
struct HAProxyBalancerTests {
    let pool = PoolSettings(name: "web", balancer: "edge", backend: "be_app", spares: ["s3"])

    func withBalancer(_ body: (HAProxyServer, HAProxyBalancer) async throws -> Void) async throws {
        let backend = try ScriptedHTTPServer { _ in .text("ok") }
        defer { backend.stop() }
        try await HAProxyServer.withRunning(configuration: { ports in
            HAProxyServer.configuration(
                ports: ports,
                servers: [
                    .init(name: "s1", port: backend.port), .init(name: "s2", port: backend.port, weight: 50), .init(name: "s3", port: backend.port),
                ],
                checks: false)
        }) { haproxy in
            let client = RuntimeClient(address: try #require(RuntimeAddress(parsing: haproxy.runtimeAddress)))
            try await body(haproxy, HAProxyBalancer(name: "edge", client: client, pools: [pool]))
        }
    }

    func target(_ server: String) -> TargetID { TargetID(pool: "web", server: server) }

    @Test func observesInventoryWeightsAndStates() async throws {
        try await withBalancer { _, balancer in
            let view = await balancer.observe()
            #expect(view.unreachable.isEmpty)
            #expect(
                view.inventory["web"] == [
                    ServerInfo(server: "s1", configuredWeight: 100), ServerInfo(server: "s2", configuredWeight: 50),
                    ServerInfo(server: "s3", configuredWeight: 100, isSpare: true),
                ])
            #expect(view.current[target("s1")] == .normal)
            #expect(view.sessions[target("s1")] == 0)
            #expect(!view.reloaded)
        }
    }

    @Test func appliesOnlyTheDiffAndReadsItBack() async throws {
        try await withBalancer { _, balancer in
            _ = await balancer.observe()
            let desired = [target("s1"): DesiredServerState(weightPercent: 25), target("s2"): DesiredServerState(weightPercent: 50, admin: .drain)]
            let first = await balancer.apply(desired)
            #expect(first[target("s1")] == ActionOutcome(.success, detail: "weight 100 → 25 of 100"))
            #expect(first[target("s2")] == ActionOutcome(.success, detail: "weight 50 → 25 of 50, state ready → drain"))
            #expect(first[target("s3")] == nil)  // not managed: never touched
            let view = await balancer.observe()
            #expect(view.current[target("s1")] == DesiredServerState(weightPercent: 25))
            #expect(view.current[target("s2")] == DesiredServerState(weightPercent: 50, admin: .drain))
            #expect(view.current[target("s3")] == .normal)
            let second = await balancer.apply(desired)
            #expect(second.values.allSatisfy { $0.result == .unchanged })
        }
    }

    @Test func aReloadIsDetectedAndTheNextApplyReassertsTheDesiredState() async throws {
        try await withBalancer { haproxy, balancer in
            _ = await balancer.observe()
            let desired = [target("s1"): DesiredServerState(weightPercent: 25, admin: .drain)]
            _ = await balancer.apply(desired)
            try await haproxy.reload()
            let view = try await eventually("the new worker") { () -> BalancerObservation? in
                let view = await balancer.observe()
                return view.reloaded ? view : nil
            }
            #expect(view.current[target("s1")] == .normal)  // the new worker starts from the configuration
            let reasserted = await balancer.apply(desired)
            #expect(reasserted[target("s1")]?.result == .success)
            #expect(reasserted[target("s1")]?.result == .success)
            #expect(await balancer.observe().current[target("s1")] == DesiredServerState(weightPercent: 25, admin: .drain))
        }
    }

    @Test func anUnreachableHAProxyMakesItsPoolsUnreachableAndChangesNothing() async throws {
        let client = RuntimeClient(address: .tcp(host: "127.0.0.1", port: try FreePort.next()))
        let balancer = HAProxyBalancer(name: "edge", client: client, pools: [pool])
        let view = await balancer.observe()
        #expect(view.unreachable["web"]?.contains("HAProxy edge") == true)
        #expect(view.inventory.isEmpty)
        // Backing off: the next observation does not even try.
        #expect(await balancer.observe().unreachable["web"]?.contains("retrying in") == true)
        let outcome = await balancer.apply([target("s1"): DesiredServerState(weightPercent: 25)])
        #expect(outcome[target("s1")]?.result == .failure)
    }

    @Test func weightsRoundButNeverToZero() {
        #expect(HAProxyBalancer.weight(for: 25, initial: 100) == 25)
        #expect(HAProxyBalancer.weight(for: 25, initial: 1) == 1)
        #expect(HAProxyBalancer.weight(for: 0, initial: 100) == 0)
        #expect(HAProxyBalancer.weight(for: 100, initial: 256) == 256)
        #expect(HAProxyBalancer.weight(for: 50, initial: 3) == 2)
    }
}
