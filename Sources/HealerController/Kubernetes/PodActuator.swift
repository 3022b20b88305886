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
        } catch {
            switch error.code {
            case 404?: return ActionOutcome(.unchanged, detail: "pod \(namespace)/\(pod.metadata.name) is already gone")
            case 409?: return ActionOutcome(.unchanged, detail: "pod \(namespace)/\(pod.metadata.name) was already replaced: \(error)")
            case 429?: return .failed(.disruptionBudget, detail: "\(error)")
            case nil: return .failed(.unreachable, detail: "\(error)")
            default: return .failed(.notApplied, detail: "\(error)")
            }
        }
        return await readBack(pod, namespace: namespace, client: client)
    }

    /// What came of the call, read back: the pod gone, terminating or replaced is done; the same pod still there
    /// and not terminating is not.
    private func readBack(_ pod: Pod, namespace: String, client: KubernetesClient) async -> ActionOutcome {
        let done = "\(action == .delete ? "deleted" : "evicted") pod \(namespace)/\(pod.metadata.name) (uid \(pod.metadata.uid))"
        do throws(KubernetesError) {
            let after = try await client.pod(pod.metadata.name, namespace: namespace)
            if after.metadata.uid != pod.metadata.uid { return ActionOutcome(.success, detail: done + ", replaced") }
            if after.metadata.deletionTimestamp != nil { return ActionOutcome(.success, detail: done + ", terminating") }
            return .failed(.notApplied, detail: done + ", yet it is still there and not terminating")
        } catch  where error.code == 404 {
            return ActionOutcome(.success, detail: done + ", gone")
        } catch {
            return ActionOutcome(.success, detail: done + " (not read back: \(error))")
        }
    }
}
