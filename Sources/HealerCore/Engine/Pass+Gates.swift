#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A change the safety gates judge before the engine makes it.
enum GatedChange {
    /// A ladder step of an incident (weight down, drain, restart, quarantine); `after` is what the step sets.
    case remedy(Incident, step: Int, after: DesiredServerState?)
    /// One stage of giving an incident's capacity back.
    case restore(Incident)
    /// Moving the weights of a pool's healthy servers (weight rules).
    case adaptiveWeights(pool: String)
    /// Bringing a spare into rotation (scale rule `rule`).
    case scaleOut(pool: String, rule: String)
    /// Taking a spare out of rotation (scale rule `rule`).
    case scaleIn(TargetID, rule: String)

    /// The kinds of change, for ``Gate/applies(to:)``.
    enum Kind: CaseIterable {
        case remedy, restore, adaptiveWeights, scaleOut, scaleIn
    }

    var kind: Kind {
        switch self {
        case .remedy: .remedy
        case .restore: .restore
        case .adaptiveWeights: .adaptiveWeights
        case .scaleOut: .scaleOut
        case .scaleIn: .scaleIn
        }
    }

    var pool: String {
        switch self {
        case .remedy(let incident, _, _), .restore(let incident): incident.key.target.pool
        case .adaptiveWeights(let pool), .scaleOut(let pool, _): pool
        case .scaleIn(let target, _): target.pool
        }
    }
}

extension Gate {
    /// Whether the gate guards changes of `kind`. The one place that says which gates hold back what: taking
    /// capacity away passes them all (a spare leaving has no incident, so no budget or per-server cooldown — the
    /// scale rule has its own cooldown); giving capacity back, moving weights between healthy servers and bringing
    /// a spare in need only leadership, no pause and trustworthy data.
    func applies(to kind: GatedChange.Kind) -> Bool {
        switch self {
        case .leader, .pause, .dataQuality: true
        case .capacityFloor, .inFlight, .rateLimit, .storm: kind == .remedy || kind == .scaleIn
        case .budget, .cooldown: kind == .remedy
        }
    }
}

/// The safety gates, checked in DESIGN.md's order; the first that fails holds the change back.
extension Pass {
    /// The gates a change passed, and why the one that held it back did.
    struct GateCheck {
        var passed: [Gate] = []
        var hold: GateHold?

        /// The gate that held the change back.
        var suppressedBy: Gate? { hold?.gate }
    }

    /// Evaluates every gate that applies to `change`, in order, up to the first that fails.
    func evaluateGates(_ change: GatedChange) -> GateCheck {
        var check = GateCheck()
        for gate in Gate.allCases where gate.applies(to: change.kind) {
            if let hold = hold(by: gate, of: change) {
                assert(hold.gate == gate, "\(gate) answered for \(hold.gate)")
                check.hold = hold
                return check
            }
            check.passed.append(gate)
        }
        return check
    }

    /// Why `gate` holds `change` back, or `nil` when it lets it through.
    private func hold(by gate: Gate, of change: GatedChange) -> GateHold? {
        let pool = change.pool
        switch gate {
        case .leader:
            return observations.isLeader ? nil : .notLeader
        case .pause:
            return state.pause.isPaused(pool) ? .paused(pool: state.pause.global ? nil : pool) : nil
        case .dataQuality:
            if let reason = observations.unreachableBalancers[pool] { return .balancerUnseen(reason) }
            switch change {
            case .remedy(let incident, _, _), .restore(let incident):
                return isDefinite(incident.key) ? nil : .verdictUncertain
            case .scaleOut(_, let rule), .scaleIn(_, let rule):
                return load(of: rule) == nil ? .loadUncertain : nil
            case .adaptiveWeights:
                return nil  // each weight rule's answer is checked as it is read
            }
        case .capacityFloor:
            guard let (target, after) = removal(change) else { return nil }
            let floor = engine.configuration.pools[pool]?.minHealthyCapacity ?? 1
            let current = simulatedState(of: target) ?? .normal
            let capacity = healthyCapacity(of: pool, overriding: (target, after.map { current.combined(with: $0) } ?? current))
            return capacity < floor - 1e-9 ? .belowCapacityFloor(capacity: capacity, floor: floor) : nil
        case .inFlight:
            guard let (target, _) = removal(change) else { return nil }
            let inFlight = serversInFlight(pool)
            let limit = engine.configuration.pools[pool]?.maxInFlight ?? 1
            guard !inFlight.contains(target), inFlight.count >= limit else { return nil }
            return .inFlight(count: inFlight.count, pool: pool, limit: limit)
        case .rateLimit:
            let bucket = isDryRun(change) ? state.dryRunRateLimiter : state.rateLimiter
            return bucket.tokens >= 1 ? nil : .rateLimit(perMinute: safety.maxActionsPerMinute)
        case .budget:
            guard case .remedy(let incident, let step, _) = change, let rule = engine.rules[incident.key.rule] else { return nil }
            let attempts = attemptsInWindow(incident.key, rule: rule)
            // The quarantine spends no budget: it is where an exhausted budget leads.
            guard step < rule.ladder.count - 1, attempts >= rule.budget.maxAttempts else { return nil }
            return .budgetExhausted(attempts: attempts, window: rule.budget.window)
        case .storm:
            let storm = [pool, "*"].compactMap { state.storms[$0] }.first { $0.isFreezing(at: now) }
            return storm.map(stormHold)
        case .cooldown:
            guard case .remedy(let incident, _, _) = change, let last = state.lastActionAt[incident.key.target] else { return nil }
            let elapsed = now.timeIntervalSince(last)
            guard elapsed < safety.targetCooldown.seconds else { return nil }
            return .cooldown(target: incident.key.target, elapsed: Int(elapsed), cooldown: safety.targetCooldown)
        }
    }

    /// The server a change takes capacity from, and the state it sets (`nil`: a step that changes no state,
    /// such as a restart).
    private func removal(_ change: GatedChange) -> (TargetID, DesiredServerState?)? {
        switch change {
        case .remedy(let incident, _, let after): (incident.key.target, after)
        case .scaleIn(let target, _): (target, DesiredServerState(admin: .drain))
        case .restore, .adaptiveWeights, .scaleOut: nil
        }
    }

    private func isDryRun(_ change: GatedChange) -> Bool {
        switch change {
        case .remedy(let incident, _, _), .restore(let incident): incident.dryRun
        case .adaptiveWeights, .scaleOut, .scaleIn: safety.dryRun
        }
    }

    /// The servers of `pool` under remediation: a remedy applied and the incident firing.
    func serversInFlight(_ pool: String) -> Set<TargetID> {
        index.inFlight[pool] ?? []
    }

    /// Remedy steps applied to `key`'s budget slot within its rule's budget window.
    func attemptsInWindow(_ key: IncidentKey, rule: RecoveryRule) -> Int {
        (state.attempts[budgetKey(key)] ?? []).filter { now.timeIntervalSince($0) < rule.budget.window.seconds }.count
    }

    /// The key a remedy of `key` is counted under: the incident's own, or, for a server whose budget outlives it
    /// (``ServerInfo/budgetSlot``), its slot's.
    func budgetKey(_ key: IncidentKey) -> IncidentKey {
        let table = tables[key.target.pool]
        let slot = table?.row(of: key.target.server).flatMap { table?.servers[$0].budgetSlot }
        guard let slot else { return key }
        return IncidentKey(rule: key.rule, target: TargetID(pool: key.target.pool, server: slot))
    }

    private func isDefinite(_ key: IncidentKey) -> Bool {
        switch read(key)?.reading {
        case .unhealthy?, .healthy?, .band?: true
        case .unknown?, nil: false
        }
    }

    private func stormHold(_ storm: StormState) -> GateHold {
        if storm.activeSince != nil { return .storm }
        return .stormCooldown(secondsLeft: storm.cooldownUntil.map { Int($0.timeIntervalSince(now).rounded(.up)) } ?? 0)
    }
}
