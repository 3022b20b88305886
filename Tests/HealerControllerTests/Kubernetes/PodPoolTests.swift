import FakeKubernetes
import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerTesting
import Logging
import SeriesLabels
import Synchronization
import Testing

/// Pools of pods: drained by their readiness gate, restarted or evicted as the very pod that was judged, every
/// action and suppression an Event; and the calls all this makes are exactly the RBAC Role's.
@Suite("Pools of Kubernetes pods")
struct PodPoolTests {
    static let gate = KubernetesSettings.defaultReadinessGate
    static let time = Date(timeIntervalSince1970: 1_800_000_000)

    static func pod(_ name: String, gate: Bool = true, gateStatus: String? = nil) -> JSONValue {
        var conditions: [JSONValue] = [["type": "PodScheduled", "status": "True"], ["type": "ContainersReady", "status": "True"]]
        if let gateStatus { conditions.append(["type": .string(Self.gate), "status": .string(gateStatus)]) }
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": "shop", "labels": ["app": "web"],
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9c", "uid": "rs-uid", "controller": true]],
            ],
            "spec": ["nodeName": "node-1", "containers": [["name": "app"]]],
            "status": [
                "phase": "Running", "conditions": .array(conditions), "containerStatuses": [["name": "app", "ready": true, "restartCount": 0]],
            ],
        ]
        if gate { pod.set([["conditionType": .string(Self.gate)]], at: "spec.readinessGates") }
        return pod
    }

    /// Pool `web`: the pods of `app=web` in namespace `shop`; rule `errors` drains, then restarts with `action`.
    static func configuration(action: PodAction = .delete, ladder: [LadderStep]? = nil) -> HealerConfiguration {
        var pool = PoolSettings(
            name: "web", balancer: "cluster", backend: "shop", minHealthyCapacity: 0.5, serverTemplate: TargetTemplate(label: "pod"),
            backendTemplate: TargetTemplate(label: "namespace"))
        pool.selector = "app=web"
        let rule = RecoveryRule(
            name: "errors", pool: "web", expression: "error_ratio", unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
            pendingFor: .zero, clearFor: .seconds(20), rampStep: .seconds(10),
            ladder: ladder ?? [
                LadderStep(.drain(waitSessions: .zero), verify: .seconds(10)), LadderStep(.restart(actuator: "restart-pod"), verify: .seconds(30)),
                LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
            ])
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 100
        safety.targetCooldown = .zero
        safety.stormMaxUnhealthy = 1
        return HealerConfiguration(
            balancers: ["cluster": .kubernetes(KubernetesSettings())], actuators: ["restart-pod": .kubernetes(action, gracePeriod: .seconds(5))],
            pools: ["web": pool], groups: [RuleGroup(name: "web", pool: "web", rules: [rule])], safety: safety)
    }

    /// A cluster with ReplicaSet `web-7d9c` and its pods `web-a`, `web-b`, `web-c` (no gate condition yet), and
    /// Healer's Kubernetes side pointed at it.
    static func withCluster(
        _ configuration: HealerConfiguration = configuration(), _ body: (FakeKubernetesAPIServer, KubernetesClusters) async throws -> Void
    ) async throws {
        try await FakeKubernetesAPIServer.with(token: "t0ken", terminationDelay: nil) { server in
            try server.create(["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web-7d9c", "namespace": "shop"]])
            for name in ["web-a", "web-b", "web-c"] { try server.create(pod(name)) }
            let clusters = KubernetesClusters(
                configuration: configuration,
                connections: ["cluster": KubernetesConnection(server: server.url, namespace: "shop", credentials: .bearer("t0ken"))])
            try await body(server, clusters)
        }
    }

    static func gateStatus(_ server: FakeKubernetesAPIServer, _ pod: String) -> String? {
        server.object("pods", namespace: "shop", name: pod)?.value(at: "status.conditions")?.array?
            .first { $0["type"]?.string == gate }?["status"]?.string
    }

    @Test func podsAreServersAndNewOnesAreAdmittedByTheirGate() async throws {
        try await Self.withCluster { server, clusters in
            try server.create(Self.pod("web-d", gate: false))  // did not opt in: never touched
            let driver = PodReadinessDriver(cluster: try #require(clusters.clusters["cluster"]))
            let seen = await driver.observe()
            #expect(seen.inventory["web"]?.map(\.server) == ["web-a", "web-b", "web-c", "web-d"])
            #expect(seen.down.count == 3)  // not Ready until the gate's condition is set
            #expect(await driver.apply([:]).isEmpty)  // no desired state: nothing changes
            #expect(Self.gateStatus(server, "web-a") == nil)
            let admitted = await driver.admitNewServers()
            #expect(admitted.keys.map(\.server).sorted() == ["web-a", "web-b", "web-c"] && admitted.values.allSatisfy { $0.result == .success })
            #expect(["web-a", "web-b", "web-c"].allSatisfy { Self.gateStatus(server, $0) == "True" })
            #expect(Self.gateStatus(server, "web-d") == nil)
            let again = await driver.observe()
            #expect(again.down.isEmpty)
            #expect(again.current[TargetID(pool: "web", server: "web-a")] == .normal)
        }
    }

    @Test func aDrainSetsTheGateFalseAndAReturnSetsItTrue() async throws {
        try await Self.withCluster { server, clusters in
            let driver = PodReadinessDriver(cluster: try #require(clusters.clusters["cluster"]))
            _ = await driver.observe()
            _ = await driver.admitNewServers()
            _ = await driver.observe()
            let target = TargetID(pool: "web", server: "web-b")
            let drained = await driver.apply([target: DesiredServerState(admin: .drain)])
            #expect(drained[target]?.result == .success)
            #expect(Self.gateStatus(server, "web-b") == "False")
            let ready = server.object("pods", namespace: "shop", name: "web-b")?.value(at: "status.conditions")?.array?.first {
                $0["type"] == "Ready"
            }
            #expect(ready?["status"] == "False")  // out of every Service's endpoints
            #expect((await driver.observe()).current[target] == DesiredServerState(admin: .drain))
            #expect((await driver.apply([target: DesiredServerState(admin: .drain)]))[target]?.result == .unchanged)
            #expect((await driver.apply([target: .normal]))[target]?.result == .success)
            #expect(Self.gateStatus(server, "web-b") == "True")
            let lowered = await driver.apply([target: DesiredServerState(weightPercent: 25)])
            #expect(lowered[target]?.failure == .notApplied)
        }
    }

    @Test func aRestartDeletesThePodThatWasJudgedNeverItsReplacement() async throws {
        try await Self.withCluster { server, clusters in
            let driver = PodReadinessDriver(cluster: try #require(clusters.clusters["cluster"]))
            _ = await driver.observe()
            let restart = PodActuator(action: .delete, gracePeriod: .seconds(5), clusters: clusters)
            let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "web-a"))
            let call = ActuatorCall(key: key, action: .restart(actuator: "restart-pod"), actuator: "restart-pod", step: 1, dryRun: false)
            #expect(await restart.run(call).result == .success)
            let delete = try #require(server.requests.last { $0.method == "DELETE" })
            #expect(delete.path == "/api/v1/namespaces/shop/pods/web-a" && delete.body.contains(#""uid""#))
            #expect(await restart.run(call).result == .success)  // terminating: the same pod, already on its way
            server.finishTerminating()
            #expect(await restart.run(call).result == .unchanged)  // already gone
            // A pod that was replaced under the same name (a StatefulSet's) is not the one judged: left alone.
            try server.create(Self.pod("web-a"))
            #expect(await restart.run(call).result == .unchanged)
            #expect(server.object("pods", namespace: "shop", name: "web-a") != nil)
        }
    }

    @Test func anEvictionABudgetRefusesFailsToBeTriedAgainNeverForced() async throws {
        try await Self.withCluster(Self.configuration(action: .evict)) { server, clusters in
            try server.create([
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": ["name": "web", "namespace": "shop"],
                "spec": ["selector": ["matchLabels": ["app": "web"]]], "status": ["disruptionsAllowed": 0],
            ])
            _ = await PodReadinessDriver(cluster: try #require(clusters.clusters["cluster"])).observe()
            let evict = PodActuator(action: .evict, gracePeriod: nil, clusters: clusters)
            let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "web-a"))
            let call = ActuatorCall(key: key, action: .restart(actuator: "restart-pod"), actuator: "restart-pod", step: 1, dryRun: false)
            let refused = await evict.run(call)
            #expect(refused.result == .failure && refused.failure == .disruptionBudget)
            #expect(!server.requests.contains { $0.method == "DELETE" })
            server.modify("poddisruptionbudgets", namespace: "shop", name: "web") { $0.set(1, at: "status.disruptionsAllowed") }
            #expect(await evict.run(call).result == .success)
            #expect(server.object("pods", namespace: "shop", name: "web-a")?.value(at: "metadata.deletionTimestamp") != nil)
            server.finishTerminating()
        }
    }

    /// One pod's error ratio rises: Healer drains it by its gate, restarts it, admits its replacement, and
    /// `kubectl get events` would show each step (the Events are in the API server).
    @Test func aSickPodIsDrainedRestartedAndItsReplacementAdmitted() async throws {
        try await Self.withCluster { server, clusters in
            let configuration = Self.configuration()
            let metrics = ScriptedMetricsSource()
            func errors(_ ratios: [String: Double]) {
                metrics.answer(
                    "error_ratio",
                    .series(
                        ratios.sorted { $0.key < $1.key }.map { SeriesSample(labels: ["pod": $0.key, "namespace": "shop"], value: $0.value) },
                        at: Self.time))
            }
            let now = Mutex(Self.time)
            let service = ReconcilerService(
                configuration: configuration,
                dependencies: .init(
                    metrics: metrics, actuator: ActuatorRouter(configuration: configuration, kubernetes: clusters),
                    balancer: BalancerSet(configuration: configuration, makeDriver: BalancerDrivers.standard(kubernetes: clusters))),
                clock: ManualClock(), now: { now.withLock { $0 } }, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
            errors(["web-a": 0, "web-b": 0, "web-c": 0])
            await service.runPass()  // admits the three pods
            #expect(["web-a", "web-b", "web-c"].allSatisfy { Self.gateStatus(server, $0) == "True" })
            errors(["web-a": 0, "web-b": 0.4, "web-c": 0])
            now.withLock { $0 += 1 }
            await service.runPass()
            #expect(Self.gateStatus(server, "web-b") == "False")
            now.withLock { $0 += 11 }  // the drain did not help within its 10 s
            await service.runPass()
            #expect(server.object("pods", namespace: "shop", name: "web-b")?.value(at: "metadata.deletionTimestamp") != nil)
            server.finishTerminating()
            let replacement = try #require(
                server.objects("pods", namespace: "shop").compactMap { $0.value(at: "metadata.name")?.string }.first { $0.hasPrefix("web-7d9c-") })
            errors(["web-a": 0, replacement: 0, "web-c": 0])
            now.withLock { $0 += 1 }
            await service.runPass()
            #expect(Self.gateStatus(server, replacement) == "True")
            try await waitUntil("the Events of the drain and the restart", timeout: .seconds(10)) {
                let reasons = server.objects("events", namespace: "shop").filter { $0.value(at: "involvedObject.name")?.string == "web-b" }
                    .compactMap { $0["reason"]?.string }
                return reasons.contains("Drain") && reasons.contains("Restart")
            }
            let event = try #require(server.objects("events", namespace: "shop").first { $0["reason"]?.string == "Drain" })
            #expect(event["reportingComponent"] == .string(PodEvents.controller))
            #expect(event["type"] == "Warning")
            #expect(event["message"]?.string?.hasPrefix("step 1: drain") == true)
            // Exactly the calls the RBAC Role grants, no more (and every one of them was needed).
            let used = Set(
                server.requests.compactMap(\.permission).map { KubernetesPermission(group: $0.group, resource: $0.resource, verb: $0.verb) })
            #expect(used.isSubset(of: Set(KubernetesPermission.podPools)), "\(used.subtracting(KubernetesPermission.podPools).sorted())")
        }
    }

    /// A replica that does not lead admits no pod and writes no Event, though it judges and records like the leader.
    @Test func aFollowerTouchesNoPodAndWritesNoEvent() async throws {
        struct Follower: LeaderElector {
            func isLeader() async -> Bool { false }
        }
        try await Self.withCluster { server, clusters in
            let configuration = Self.configuration()
            let metrics = ScriptedMetricsSource()
            metrics.answer(
                "error_ratio",
                .series(
                    ["web-a": 0.0, "web-b": 0.4, "web-c": 0.0].sorted { $0.key < $1.key }.map {
                        SeriesSample(labels: ["pod": $0.key, "namespace": "shop"], value: $0.value)
                    }, at: Self.time))
            let service = ReconcilerService(
                configuration: configuration,
                dependencies: .init(
                    metrics: metrics, actuator: ActuatorRouter(configuration: configuration, kubernetes: clusters),
                    balancer: BalancerSet(configuration: configuration, makeDriver: BalancerDrivers.standard(kubernetes: clusters)),
                    elector: Follower()),
                clock: ManualClock(), now: { Self.time }, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
            let pass = await service.runPass()
            #expect(pass.outcome.records.contains { $0.server == "web-b" && $0.suppressedBy == .leader })
            #expect(server.requests.allSatisfy { $0.method == "GET" }, "\(server.requests.filter { $0.method != "GET" })")
        }
    }

    /// Every permission in the list is one a remedy needs: drain and return, delete, evict, Events.
    @Test func everyPermissionIsUsed() async throws {
        try await Self.withCluster(Self.configuration(action: .evict)) { server, clusters in
            let cluster = try #require(clusters.clusters["cluster"])
            let driver = PodReadinessDriver(cluster: cluster)
            _ = await driver.observe()
            _ = await driver.admitNewServers()
            let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "web-a"))
            let call = ActuatorCall(key: key, action: .restart(actuator: "restart-pod"), actuator: "restart-pod", step: 1, dryRun: false)
            _ = await PodActuator(action: .evict, gracePeriod: nil, clusters: clusters).run(call)
            let other = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "web-b"))
            _ = await PodActuator(action: .delete, gracePeriod: nil, clusters: clusters).run(
                ActuatorCall(key: other, action: .restart(actuator: "restart-pod"), actuator: "restart-pod", step: 1, dryRun: false))
            await cluster.events.post(
                [DecisionRecord(time: Self.time, kind: .action, pool: "web", rule: "errors", server: "web-c", action: .drain, because: .recovered)],
                cluster: cluster)
            let used = Set(
                server.requests.compactMap(\.permission).map { KubernetesPermission(group: $0.group, resource: $0.resource, verb: $0.verb) })
            #expect(used == Set(KubernetesPermission.podPools), "used \(used.sorted()), listed \(KubernetesPermission.podPools.sorted())")
        }
    }
}
