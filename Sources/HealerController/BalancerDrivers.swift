import HealerCore
import HealerHAProxy

/// The balancer drivers Healer ships, for ``BalancerSet/init(configuration:makeDriver:)``.
public enum BalancerDrivers {
    /// HAProxy through its runtime API, Kubernetes pods through their readiness gate (the clusters of
    /// `kubernetes`); a balancer that cannot be used gets a driver that says so on every observation and fails every
    /// write (never silently skipped: nothing in its pools is changed).
    public static func standard(kubernetes: KubernetesClusters? = nil) -> BalancerSet.MakeDriver {
        { name, settings, pools in make(name, settings, pools, kubernetes: kubernetes) }
    }

    private static func make(_ name: String, _ settings: BalancerSettings, _ pools: [PoolSettings], kubernetes: KubernetesClusters?) -> any Balancer {
        switch settings {
        case .kubernetes:
            guard let cluster = kubernetes?.clusters[name] else {
                return Unusable(pools: pools.map(\.name), reason: "balancer \(name): no Kubernetes connection was made for it")
            }
            return PodReadinessDriver(cluster: cluster)
        case .haproxy(let runtimeAPI):
            guard let address = RuntimeAddress(parsing: runtimeAPI) else {
                let reason = "balancer \(name): runtime_api \(runtimeAPI) is not tcp://host:port or unix:///absolute/path"
                return Unusable(pools: pools.map(\.name), reason: reason)
            }
            return HAProxyBalancer(name: name, client: RuntimeClient(address: address), pools: pools)
        }
    }

    /// A balancer whose address cannot be used: its pools are unreachable, and every write fails.
    private struct Unusable: Balancer {
        var pools: [String]
        var reason: String

        func observe() async -> BalancerObservation {
            BalancerObservation(unreachable: Dictionary(uniqueKeysWithValues: pools.map { ($0, reason) }))
        }

        func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome] {
            desired.mapValues { _ in .failed(.unreachable, detail: reason) }
        }
    }
}
