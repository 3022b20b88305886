#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why a gate held a change back, with its numbers: the gate is ``gate``, and a record's sentence is rendered
/// from it.
public enum GateHold: Sendable, Equatable {
    /// Another replica leads and acts.
    case notLeader
    /// Healer is paused (`pool` `nil`), or the pool is.
    case paused(pool: String?)
    /// The pool's balancer cannot be read.
    case balancerUnseen(String)
    /// The incident's verdict does not rest on fresh, complete data.
    case verdictUncertain
    /// The scale rule's load does not rest on fresh, complete data.
    case loadUncertain
    /// Healthy capacity would fall below the pool's floor.
    case belowCapacityFloor(capacity: Double, floor: Double)
    /// `count` servers of the pool are under remediation already, `limit` allowed.
    case inFlight(count: Int, pool: String, limit: Int)
    /// The global token bucket is empty.
    case rateLimit(perMinute: Int)
    /// The incident spent its remedy budget.
    case budgetExhausted(attempts: Int, window: Duration)
    /// Too much of the pool (or of all pools) is unhealthy or unknown.
    case storm
    /// A storm ended `secondsLeft` ago of its cooldown.
    case stormCooldown(secondsLeft: Int)
    /// The last action on `target` was `elapsed` seconds ago, less than the cooldown.
    case cooldown(target: TargetID, elapsed: Int, cooldown: Duration)

    /// The gate that holds.
    public var gate: Gate {
        switch self {
        case .notLeader: .leader
        case .paused: .pause
        case .balancerUnseen, .verdictUncertain, .loadUncertain: .dataQuality
        case .belowCapacityFloor: .capacityFloor
        case .inFlight: .inFlight
        case .rateLimit: .rateLimit
        case .budgetExhausted: .budget
        case .storm, .stormCooldown: .storm
        case .cooldown: .cooldown
        }
    }

    /// The sentence for people.
    public var sentence: String {
        switch self {
        case .notLeader: "not the leader: another replica acts"
        case .paused(let pool): "paused" + (pool.map { " (pool \($0))" } ?? "")
        case .balancerUnseen(let reason): "the balancer cannot be seen: \(reason)"
        case .verdictUncertain: "the verdict does not rest on fresh, complete data"
        case .loadUncertain: "the load does not rest on fresh, complete data"
        case .belowCapacityFloor(let capacity, let floor):
            "healthy capacity would be \(percent(capacity)), below the floor of \(percent(floor)): spreading load instead of taking servers out"
        case .inFlight(let count, let pool, let limit): "\(count) servers of \(pool) already under remediation (max_in_flight \(limit))"
        case .rateLimit(let perMinute): "global rate limit of \(perMinute) actions per minute reached"
        case .budgetExhausted(let attempts, let window): "budget exhausted: \(attempts) remedies in \(PrometheusDuration.format(window))"
        case .storm: "storm: too much of the pool is unhealthy or unknown; Healer may be the one that is blind"
        case .stormCooldown(let left): "storm cooldown: \(left)s left"
        case .cooldown(let target, let elapsed, let cooldown):
            "last action on \(target) was \(elapsed)s ago (cooldown \(PrometheusDuration.format(cooldown)))"
        }
    }
}
