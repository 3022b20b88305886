public import HealerCore
import HealerKubernetes

/// Restarts a pod by deleting it, or evicts it, through the Kubernetes API: always the pod that was judged
/// (the uid last seen), never a replacement that took its name.
public struct PodActuator: Sendable {
    let action: PodAction
    let gracePeriod: Duration?
    let clusters: KubernetesClusters

    /// An actuator doing `action` on pods of `clusters`.
    public init(action: PodAction, gracePeriod: Duration?, clusters: KubernetesClusters) {
        self.action = action
        self.gracePeriod = gracePeriod
        self.clusters = clusters
    }

    /// Carries out `call` on its pod. A pod already gone or already replaced needs nothing (`unchanged`); a
    /// PodDisruptionBudget refusing an eviction is a failure the next pass tries again, never a reason to delete.
    public func run(_ call: ActuatorCall) async -> ActionOutcome {
        let target = call.key.target
        guard let cluster = clusters.cluster(serving: target.pool), let client = cluster.client else {
            return .failed(.unreachable, detail: "no Kubernetes cluster serves pool \(target.pool)")
        }
        guard let pod = cluster.pod(target) else { return .failed(.noSuchServer, detail: "no pod \(target.server) in pool \(target.pool)") }
        let namespace = pod.metadata.namespace ?? "default"
        let grace = gracePeriod.map { Int($0.components.seconds) }
        do throws(KubernetesError) {
            switch action {
            case .delete: try await client.deletePod(pod.metadata.name, namespace: namespace, uid: pod.metadata.uid, gracePeriodSeconds: grace)
            case .evict: try await client.evictPod(pod.metadata.name, namespace: namespace, uid: pod.metadata.uid, gracePeriodSeconds: grace)
            }
            return ActionOutcome(
                .success, detail: "\(action == .delete ? "deleted" : "evicted") pod \(namespace)/\(pod.metadata.name) (uid \(pod.metadata.uid))")
        } catch {
            switch (error.code, error.retry) {
            case (404?, _): return ActionOutcome(.unchanged, detail: "pod \(namespace)/\(pod.metadata.name) is already gone")
            case (409?, _): return ActionOutcome(.unchanged, detail: "pod \(namespace)/\(pod.metadata.name) was already replaced: \(error)")
            case (429?, _): return .failed(.disruptionBudget, detail: "\(error)")
            case (nil, _): return .failed(.unreachable, detail: "\(error)")
            default: return .failed(.notApplied, detail: "\(error)")
            }
        }
    }
}
