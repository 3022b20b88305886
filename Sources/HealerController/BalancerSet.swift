public import HealerCore

/// Every balancer of the configuration behind one ``Balancer``: observations merged, desired states routed to the
/// balancer of each target's pool.
public struct BalancerSet: Balancer {
    /// Makes the driver of one configured balancer, serving `pools`: ``BalancerDrivers/standard`` in production,
    /// fakes in tests.
    public typealias MakeDriver = @Sendable (_ name: String, _ settings: BalancerSettings, _ pools: [PoolSettings]) -> any Balancer

    private let balancers: [any Balancer]
    private let poolsByBalancer: [[String]]

    /// One driver, made by `makeDriver`, for each balancer of `configuration` that serves a pool.
    public init(configuration: HealerConfiguration, makeDriver: MakeDriver) {
        var balancers: [any Balancer] = []
        var pools: [[String]] = []
        for (name, settings) in configuration.balancers.sorted(by: { $0.key < $1.key }) {
            let served = configuration.pools.values.filter { $0.balancer == name }
            guard !served.isEmpty else { continue }
            balancers.append(makeDriver(name, settings, served))
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

    public func admitNewServers() async -> [TargetID: ActionOutcome] {
        var outcomes: [TargetID: ActionOutcome] = [:]
        for balancer in balancers { outcomes.merge(await balancer.admitNewServers()) { $1 } }
        return outcomes
    }

    public func note(_ records: [DecisionRecord]) async {
        for (balancer, pools) in zip(balancers, poolsByBalancer) {
            let mine = records.filter { pools.contains($0.pool) }
            if !mine.isEmpty { await balancer.note(mine) }
        }
    }
}
