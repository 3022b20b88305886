public import HealerCore
import Synchronization

/// An in-memory load balancer: servers with weights and admin states, every applied change recorded, and a
/// switch to make it unreachable.
public final class FakeBalancer: Balancer, Sendable {
    private struct State {
        var servers: [TargetID: DesiredServerState] = [:]
        var inventory: [String: [ServerInfo]] = [:]
        var applied: [[TargetID: DesiredServerState]] = []
        var unreachable: String?
    }

    private let state = Mutex(State())

    /// Creates a balancer with these pools and servers, all ready at full weight.
    public init(pools: [String: [ServerInfo]]) {
        state.withLock { state in
            state.inventory = pools
            for (pool, servers) in pools {
                for server in servers { state.servers[TargetID(pool: pool, server: server.server)] = .normal }
            }
        }
    }

    /// Every `apply` call's desired states that changed something, in order.
    public var applied: [[TargetID: DesiredServerState]] { state.withLock { $0.applied } }

    /// The state of `target` now.
    public func current(_ target: TargetID) -> DesiredServerState? { state.withLock { $0.servers[target] } }

    /// Puts every server back to ready at full weight, as a balancer restarted from its configuration does.
    public func restart() {
        state.withLock { state in
            for target in state.servers.keys { state.servers[target] = .normal }
        }
    }

    /// Makes the balancer unreachable (`reason`) or reachable again (`nil`).
    public func setUnreachable(_ reason: String?) {
        state.withLock { $0.unreachable = reason }
    }

    public func observe() async -> BalancerObservation {
        state.withLock { state in
            if let reason = state.unreachable {
                return BalancerObservation(unreachable: Dictionary(uniqueKeysWithValues: state.inventory.keys.map { ($0, reason) }))
            }
            return BalancerObservation(inventory: state.inventory, current: state.servers)
        }
    }

    public func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome] {
        state.withLock { state in
            var outcomes: [TargetID: ActionOutcome] = [:]
            var changed: [TargetID: DesiredServerState] = [:]
            for (target, want) in desired {
                if let reason = state.unreachable {
                    outcomes[target] = .failed(.unreachable, detail: reason)
                } else if state.servers[target] == want {
                    outcomes[target] = ActionOutcome(.unchanged, detail: "already \(want)")
                } else {
                    state.servers[target] = want
                    changed[target] = want
                    outcomes[target] = ActionOutcome(.success, detail: "now \(want)")
                }
            }
            if !changed.isEmpty { state.applied.append(changed) }
            return outcomes
        }
    }
}
