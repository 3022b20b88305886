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
                guard let address = RuntimeAddress(parsing: runtimeAPI) else { continue }
                balancers.append(HAProxyBalancer(name: name, client: RuntimeClient(address: address), pools: served))
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
