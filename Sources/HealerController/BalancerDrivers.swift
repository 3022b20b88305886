public import HealerCore
import HealerHAProxy

/// The balancer drivers Healer ships, for ``BalancerSet/init(configuration:makeDriver:)``.
public enum BalancerDrivers {
    /// HAProxy through its runtime API; a balancer whose address cannot be used gets a driver that says so on every
    /// observation and fails every write (never silently skipped: nothing in its pools is changed).
    public static let standard: BalancerSet.MakeDriver = { name, settings, pools in
        switch settings {
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
