#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The safety gates, checked in DESIGN.md's order; the first that fails holds the action back.
extension Pass {
    struct GateCheck {
        var passed: [Gate] = []
        var suppressedBy: Gate?
        var reason = ""
    }

    /// Gates for a remedy step (weight down, drain, restart, quarantine).
    func checkDestructive(_ incident: Incident, newState: DesiredServerState?) -> GateCheck {
        let target = incident.key.target
        let pool = engine.configuration.pools[target.pool]
        var check = GateCheck()
        func gate(_ gate: Gate, _ ok: Bool, _ reason: @autoclosure () -> String) -> Bool {
            guard check.suppressedBy == nil else { return false }
            if ok {
                check.passed.append(gate)
            } else {
                check.suppressedBy = gate
                check.reason = reason()
            }
            return ok
        }
        guard gate(.leader, observations.isLeader, "not the leader: another replica acts"),
            gate(.pause, !state.pause.isPaused(target.pool), "paused" + (state.pause.global ? "" : " (pool \(target.pool))")),
            gate(
                .dataQuality, isDefinite(incident.key) && balancerVisible(target.pool),
                balancerVisible(target.pool)
                    ? "the verdict does not rest on fresh, complete data"
                    : "the balancer cannot be seen: \(observations.unreachableBalancers[target.pool] ?? "")")
        else { return check }

        let floor = pool?.minHealthyCapacity ?? 1
        let current = simulatedStates()[target] ?? .normal
        let after = newState.map { current.combined(with: $0) } ?? current
        let capacity = healthyCapacity(of: target.pool, overriding: (target, after))
        guard
            gate(
                .capacityFloor, capacity >= floor - 1e-9,
                "healthy capacity would be \(percent(capacity)), below the floor of \(percent(floor)): spreading load instead of taking servers out")
        else { return check }

        let inFlight = Set(
            state.incidents.values.filter { $0.key.target.pool == target.pool && $0.phase == .firing && $0.hasActed }.map(\.key.target))
        let alreadyInFlight = inFlight.contains(target)
        let limit = pool?.maxInFlight ?? 1
        let bucket = incident.dryRun ? state.dryRunRateLimiter : state.rateLimiter
        let storm = [target.pool, "*"].compactMap { state.storms[$0] }.first { $0.isFreezing(at: now) }
        let lastAction = state.lastActionAt[target]
        _ =
            gate(
                .inFlight, alreadyInFlight || inFlight.count < limit,
                "\(inFlight.count) servers of \(target.pool) already under remediation (max_in_flight \(limit))")
            && gate(.rateLimit, bucket.tokens >= 1, "global rate limit of \(safety.maxActionsPerMinute) actions per minute reached")
            && gate(.budget, true, "")
            && gate(.storm, storm == nil, stormReason(storm))
            && gate(
                .cooldown, lastAction.map { now.timeIntervalSince($0) >= safety.targetCooldown.seconds } ?? true,
                "last action on \(target) was \(Int(now.timeIntervalSince(lastAction ?? now)))s ago (cooldown \(PrometheusDuration.format(safety.targetCooldown)))"
            )
        return check
    }

    /// Gates for giving capacity back: only leadership, pause and trustworthy data stand in the way.
    func checkRestore(_ incident: Incident) -> GateCheck {
        var check = GateCheck()
        if !observations.isLeader {
            check.suppressedBy = .leader
            check.reason = "not the leader: another replica acts"
        } else if state.pause.isPaused(incident.key.target.pool) {
            check.passed = [.leader]
            check.suppressedBy = .pause
            check.reason = "paused"
        } else if !isDefinite(incident.key) || !balancerVisible(incident.key.target.pool) {
            check.passed = [.leader, .pause]
            check.suppressedBy = .dataQuality
            check.reason =
                balancerVisible(incident.key.target.pool)
                ? "the verdict does not rest on fresh, complete data"
                : "the balancer cannot be seen: \(observations.unreachableBalancers[incident.key.target.pool] ?? "")"
        } else {
            check.passed = [.leader, .pause, .dataQuality]
        }
        return check
    }

    private func balancerVisible(_ pool: String) -> Bool {
        observations.unreachableBalancers[pool] == nil
    }

    private func isDefinite(_ key: IncidentKey) -> Bool {
        switch read(key)?.reading {
        case .unhealthy?, .healthy?, .band?: true
        case .unknown?, nil: false
        }
    }

    private func stormReason(_ storm: StormState?) -> String {
        guard let storm else { return "" }
        if storm.activeSince != nil { return "storm: too much of the pool is unhealthy or unknown; Healer may be the one that is blind" }
        let left = storm.cooldownUntil.map { Int($0.timeIntervalSince(now).rounded(.up)) } ?? 0
        return "storm cooldown: \(left)s left"
    }
}
