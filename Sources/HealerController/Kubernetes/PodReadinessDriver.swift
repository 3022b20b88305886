import Foundation
public import HealerCore
import HealerKubernetes
import Logging

/// The "balancer" of a pool of pods: a pod serves while the condition of Healer's readiness gate is `True`
/// (every Service's endpoints follow the pod's readiness) and is drained by setting it `False`, without touching
/// the workload's spec. Pods that declare the gate and lack its condition are brought into service (`True`).
public struct PodReadinessDriver: Balancer {
    let cluster: KubernetesClusters.Cluster

    /// The driver of `cluster`'s pools.
    public init(cluster: KubernetesClusters.Cluster) {
        self.cluster = cluster
    }

    private var gate: String { cluster.settings.readinessGate }

    public func observe() async -> BalancerObservation {
        var observation = BalancerObservation()
        guard let client = cluster.client else {
            observation.unreachable = Dictionary(uniqueKeysWithValues: cluster.pools.map { ($0.name, cluster.problem ?? "no client") })
            return observation
        }
        for pool in cluster.pools {
            do throws(KubernetesError) {
                // Pods that ran to an end are not servers; terminating ones still are, serving nothing, until they are
                // gone (they still count in the pool's capacity, as out of it).
                let pods = try await client.pods(
                    namespace: pool.backend, labelSelector: pool.selector, fieldSelector: "status.phase!=Failed,status.phase!=Succeeded"
                ).sorted { $0.metadata.name < $1.metadata.name }
                cluster.remember(pods, pool: pool.name)
                observation.inventory[pool.name] = pods.map { ServerInfo(server: $0.metadata.name, budgetSlot: Self.budgetSlot(of: $0)) }
                for pod in pods {
                    let target = TargetID(pool: pool.name, server: pod.metadata.name)
                    observation.current[target] = pod.condition(gate)?.status == "False" ? DesiredServerState(admin: .drain) : .normal
                    // Not Ready (its containers, or a readiness gate not yet True), or a phase that runs nothing: out of
                    // every Service's endpoints, it serves nothing.
                    if pod.condition("Ready")?.status != "True" || pod.status?.phase != "Running" || pod.metadata.deletionTimestamp != nil {
                        observation.down.insert(target)
                    }
                }
            } catch {
                observation.unreachable[pool.name] = "Kubernetes API (\(cluster.name)): \(error)"
            }
        }
        return observation
    }

    public func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome] {
        var outcomes: [TargetID: ActionOutcome] = [:]
        guard let client = cluster.client else {
            return desired.mapValues { _ in .failed(.unreachable, detail: cluster.problem ?? "no client") }
        }
        for (target, want) in desired.sorted(by: { $0.key < $1.key }) {
            guard let pod = cluster.pod(target) else {
                outcomes[target] = .failed(.noSuchServer, detail: "no pod \(target.server) in pool \(target.pool)")
                continue
            }
            guard want.weightPercent == 100 || want.admin != .ready else {
                outcomes[target] = .failed(.notApplied, detail: "a pod cannot take \(want.weightPercent)% of its traffic: it is in service or not")
                continue
            }
            guard pod.declaresGate(gate) else {
                outcomes[target] = .failed(
                    .notApplied, detail: "pod \(pod.metadata.name) does not list readiness gate \(gate) in spec.readinessGates")
                continue
            }
            let serving = want.admin == .ready
            if pod.condition(gate)?.status == (serving ? "True" : "False") {
                outcomes[target] = ActionOutcome(.unchanged, detail: "already \(gate)=\(serving ? "True" : "False")")
                continue
            }
            outcomes[target] = await set(
                serving, target, pod: pod, client: client, reason: serving ? "Serving" : "DrainedByHealer",
                message: serving ? "in service" : "drained by Healer")
        }
        return outcomes
    }

    /// Pods that declare the gate and lack its condition (new pods) come into service; a pod whose condition is
    /// set, `True` or `False`, is left as it is.
    public func admitNewServers() async -> [TargetID: ActionOutcome] {
        guard let client = cluster.client else { return [:] }
        var outcomes: [TargetID: ActionOutcome] = [:]
        for pool in cluster.pools {
            for pod in cluster.seenPods(pool: pool.name) where pod.declaresGate(gate) && pod.condition(gate) == nil {
                guard pod.metadata.deletionTimestamp == nil else { continue }
                let target = TargetID(pool: pool.name, server: pod.metadata.name)
                outcomes[target] = await set(true, target, pod: pod, client: client, reason: "Admitted", message: "admitted by Healer")
            }
        }
        return outcomes
    }

    /// Writes the records' Events in the background: a slow API server never delays a pass.
    public func note(_ records: [DecisionRecord]) async {
        let cluster = cluster
        Task { await cluster.events.post(records, cluster: cluster) }
    }

    /// A pod's remedies count against its owner when its replacements take new names (a ReplicaSet's), against
    /// the pod itself when they keep its name (a StatefulSet's) or it has no owner.
    static func budgetSlot(of pod: Pod) -> String? {
        guard let owner = pod.controller, owner.kind != "StatefulSet" else { return nil }
        return "\(owner.kind)/\(owner.name)"
    }

    /// Sets the gate's condition on the pod it last saw (a replacement with the same name is refused: 409), and
    /// reads it back from the answer.
    private func set(_ serving: Bool, _ target: TargetID, pod: Pod, client: KubernetesClient, reason: String, message: String) async
        -> ActionOutcome
    {
        let status = serving ? "True" : "False"
        let condition = PodCondition(
            type: gate, status: status, reason: reason, message: message,
            lastTransitionTime: KubernetesTime.seconds(Date()))
        do throws(KubernetesError) {
            let patched = try await client.setConditions(
                [condition], pod: pod.metadata.name, namespace: pod.metadata.namespace ?? "default", uid: pod.metadata.uid)
            cluster.remember(patched, as: target)
            guard patched.condition(gate)?.status == status else {
                return .failed(.notApplied, detail: "wrote \(gate)=\(status), read back \(patched.condition(gate)?.status ?? "nothing")")
            }
            return ActionOutcome(.success, detail: "\(gate) → \(status)")
        } catch {
            switch error.code {
            case 404?: return .failed(.noSuchServer, detail: "pod \(pod.metadata.name) is gone")
            case 409?: return .failed(.notApplied, detail: "pod \(pod.metadata.name) changed (replaced?): \(error)")
            case nil: return .failed(.unreachable, detail: "\(error)")
            default: return .failed(.notApplied, detail: "\(error)")
            }
        }
    }
}
