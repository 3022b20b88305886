public import HealerCore
import HealerHAProxy

/// Every balancer of the configuration behind one ``Balancer``: observations merged, desired states routed to the
/// balancer of each target's pool.
public struct BalancerSet: Balancer {
    private let balancers: [any Balancer]
    private let poolsByBalancer: [[String]]

    /// Creates drivers for the balancers `configuration` names (HAProxy through its runtime API).
    public init(configuration: HealerConfiguration) {
        var balancers: [any Balancer] = []
        var pools: [[String]] = []
        for (name, settings) in configuration.balancers.sorted(by: { $0.key < $1.key }) {
            let served = configuration.pools.values.filter { $0.balancer == name }
            guard !served.isEmpty else { continue }
            switch settings {
            case .haproxy(let runtimeAPI):
                if let address = RuntimeAddress(parsing: runtimeAPI) {
                    balancers.append(HAProxyBalancer(name: name, client: RuntimeClient(address: address), pools: served))
                } else {
                    // Never silently skipped: its pools are unreachable, so nothing in them is changed, and it is said.
                    let reason = "balancer \(name): runtime_api \(runtimeAPI) is not tcp://host:port or unix:///absolute/path"
                    balancers.append(Unusable(pools: served.map(\.name), reason: reason))
                }
            }
            pools.append(served.map(\.name))
        }
        self.balancers = balancers
        self.poolsByBalancer = pools
    }

    public func observe() async -> BalancerObservation {
        var merged = BalancerObservation()
        for balancer in balancers { merged.merge(await balancer.observe()) }
        return merged
    }

    /// A balancer whose address cannot be used: its pools are unreachable, and every write fails.
    private struct Unusable: Balancer {
        var pools: [String]
        var reason: String

        func observe() async -> BalancerObservation {
            BalancerObservation(unreachable: Dictionary(uniqueKeysWithValues: pools.map { ($0, reason) }))
        }

        func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome] {
            desired.mapValues { _ in ActionOutcome(.failure, detail: reason) }
        }
    }

    public func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome] {
        var outcomes: [TargetID: ActionOutcome] = [:]
        for (balancer, pools) in zip(balancers, poolsByBalancer) {
            let mine = desired.filter { pools.contains($0.key.pool) }
            guard !mine.isEmpty else { continue }
            outcomes.merge(await balancer.apply(mine)) { $1 }
        }
        return outcomes
    }
}
