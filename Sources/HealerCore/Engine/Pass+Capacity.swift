import SeriesLabels

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Adaptive weights between healthy servers, and elastic capacity from spares.
extension Pass {
    /// A scale rule's load this pass: its one finite value from a trustworthy answer, or `nil`.
    func load(of rule: String) -> Double? {
        guard let observation = observations.rules[rule], case .series(let samples) = observation.outcome, observation.warnings.isEmpty,
            samples.count == 1, let load = samples.first?.value, load.isFinite
        else { return nil }
        return load
    }

    // MARK: - Adaptive weights

    /// Moves each healthy server's weight towards its rules' target, smoothed and bounded per pass.
    ///
    /// For each weight rule, a server's raw score is `1 / value` (inverse) or `1 − value` (error-penalised); its
    /// target share is its score over the best score, clamped to [floor, ceiling]. With several rules the lowest
    /// target wins; the first rule's smoothing, step, floor and ceiling apply. Servers in an incident, out of
    /// rotation, or without a usable value keep their weight (unknown changes nothing).
    mutating func adaptWeights() {
        for group in engine.configuration.groups where !group.weights.isEmpty {
            guard let pool = engine.configuration.pools[group.pool], let first = group.weights.first,
                evaluateGates(.adaptiveWeights(pool: group.pool)).suppressedBy == nil
            else { continue }
            guard let table = tables[group.pool] else { continue }
            // Target shares by row; a row whose rule answers no series, or several, gets none from that rule.
            var targets: [Int: Double] = [:]
            for rule in group.weights {
                guard let observation = observations.rules[rule.name], case .series(let samples) = observation.outcome, observation.warnings.isEmpty
                else {
                    continue
                }
                let (first, count) = table.match(samples, settings: pool, discover: false)
                var scores: [Int: Double] = [:]
                for row in first.indices where count[row] == 1 {
                    let value = samples[first[row]].value
                    guard value.isFinite else { continue }
                    scores[row] = rule.policy == .inverse ? 1 / max(value, 1e-9) : max(0, 1 - value)
                }
                guard let best = scores.values.max(), best > 0 else { continue }
                for (row, score) in scores {
                    let target = min(rule.ceiling, max(rule.floor, score / best))
                    targets[row] = min(targets[row] ?? .infinity, target)
                }
            }
            for (row, server) in table.servers.enumerated() {
                let target = table.target(row)
                if hasIncident(table, row: row) {
                    state.adaptiveWeights[target] = nil  // it comes back through recovery at full weight
                    continue
                }
                guard isInRotation(server, pool: group.pool), let goal = targets[row], !summary(table, row: row).troubled else { continue }
                let previous = state.adaptiveWeights[target] ?? 1
                let step = min(first.maxStep, max(-first.maxStep, first.smoothing * (goal - previous)))
                var next = min(first.ceiling, max(first.floor, previous + step))
                if abs(goal - next) < 0.005 { next = goal }  // smoothing never quite arrives: snap within half a point
                state.adaptiveWeights[target] = abs(next - 1) < 1e-9 ? nil : next
            }
        }
    }

    /// Whether a key of `row` has an incident open.
    private func hasIncident(_ table: PoolReadings, row: Int) -> Bool {
        table.dynamicKeys(row: row).contains { state.incidents[$0] != nil }
    }

    private func isInRotation(_ server: ServerInfo, pool: String) -> Bool {
        !server.isSpare || (state.scale[pool]?.activeSpares.contains(server.server) ?? false)
    }

    // MARK: - Spares

    /// Brings a spare into rotation when the pool runs hot, and drains it again when it cools, with hysteresis,
    /// a `for` on both thresholds and a cooldown between moves. Bringing capacity in needs only trustworthy data
    /// and leadership; taking it out passes the destructive gates.
    mutating func scaleSpares() {
        for group in engine.configuration.groups where !group.scale.isEmpty {
            guard let pool = engine.configuration.pools[group.pool], let rule = group.scale.first else { continue }
            var scale = state.scale[group.pool] ?? ScaleState()
            defer { state.scale[group.pool] = scale == ScaleState() ? nil : scale }
            guard let load = load(of: rule.name) else {
                scale.hotSince = nil
                scale.coolSince = nil
                continue
            }
            let table = tables[group.pool]
            let serving = (table?.servers ?? []).enumerated().filter { row, server in
                guard isInRotation(server, pool: group.pool), let table else { return false }
                return !table.dynamicKeys(row: row).contains { state.incidents[$0]?.hasActed == true }
            }.count
            let utilisation = load / (rule.perServerCapacity * Double(max(1, serving)))
            if utilisation > rule.outAbove {
                scale.hotSince = scale.hotSince ?? now
                scale.coolSince = nil
            } else if utilisation < rule.inBelow {
                scale.coolSince = scale.coolSince ?? now
                scale.hotSince = nil
            } else {
                scale.hotSince = nil
                scale.coolSince = nil
            }
            let rested = scale.lastActionAt.map { now.timeIntervalSince($0) >= rule.cooldown.seconds } ?? true
            let dryRun = safety.dryRun
            let reading = "utilisation \(percent(utilisation)) of \(serving) server\(serving == 1 ? "" : "s")"

            if let hot = scale.hotSince, now.timeIntervalSince(hot) >= rule.pendingFor.seconds, rested,
                let spare = pool.spares.first(where: { !scale.activeSpares.contains($0) })
            {
                let check = evaluateGates(.scaleOut(pool: group.pool, rule: rule.name))
                if let hold = check.hold {
                    self.hold(&scale, hold, passed: check.passed, pool: group.pool, rule: rule.name, spare: spare, action: .scaleOut, value: load)
                    continue
                }
                scale.heldBy = nil
                scale.activeSpares.append(spare)
                scale.retiredSpares.removeAll { $0 == spare }
                scale.lastActionAt = now
                scale.hotSince = nil
                let key = IncidentKey(rule: rule.name, target: TargetID(pool: group.pool, server: spare))
                changes.append(BalancerChange(key: key, action: .scaleOut, state: .normal, step: nil, dryRun: dryRun))
                records.append(
                    DecisionRecord(
                        time: now, kind: .action, pool: group.pool, rule: rule.name, server: spare, value: load, action: .scaleOut,
                        gatesPassed: check.passed, dryRun: dryRun,
                        because: .scaleOut(reading: reading, above: rule.outAbove, spare: spare)))
            } else if let cool = scale.coolSince, now.timeIntervalSince(cool) >= rule.pendingFor.seconds, rested,
                let spare = scale.activeSpares.last
            {
                let target = TargetID(pool: group.pool, server: spare)
                let check = evaluateGates(.scaleIn(target, rule: rule.name))
                if let hold = check.hold {
                    self.hold(&scale, hold, passed: check.passed, pool: group.pool, rule: rule.name, spare: spare, action: .scaleIn, value: load)
                    continue
                }
                scale.heldBy = nil
                _ = dryRun ? state.dryRunRateLimiter.take() : state.rateLimiter.take()
                scale.activeSpares.removeLast()
                scale.retiredSpares.append(spare)
                scale.lastActionAt = now
                scale.coolSince = nil
                state.adaptiveWeights[target] = nil
                let key = IncidentKey(rule: rule.name, target: target)
                changes.append(BalancerChange(key: key, action: .scaleIn, state: DesiredServerState(admin: .drain), step: nil, dryRun: dryRun))
                records.append(
                    DecisionRecord(
                        time: now, kind: .action, pool: group.pool, rule: rule.name, server: spare, value: load, action: .scaleIn,
                        gatesPassed: check.passed, dryRun: dryRun,
                        because: .scaleIn(reading: reading, below: rule.inBelow, spare: spare)))
            } else {
                scale.heldBy = nil  // no move is due: a later hold is said again
            }
        }
    }

    /// Records, once while it lasts, that a gate holds back a due move of a spare.
    private mutating func hold(
        _ scale: inout ScaleState, _ hold: GateHold, passed: [Gate], pool: String, rule: String, spare: String, action: DecisionAction,
        value: Double
    ) {
        guard scale.heldBy != hold.gate else { return }
        scale.heldBy = hold.gate
        records.append(
            DecisionRecord(
                time: now, kind: .suppressed, pool: pool, rule: rule, server: spare, value: value, action: action, gatesPassed: passed,
                suppressedBy: hold.gate, dryRun: safety.dryRun, because: .heldBack(hold)))
    }

    /// The state adaptive weights and spares ask for, per server (incidents take precedence over it).
    func capacityStates() -> [TargetID: DesiredServerState] {
        var states: [TargetID: DesiredServerState] = [:]
        for (target, share) in state.adaptiveWeights {
            states[target] = DesiredServerState(weightPercent: max(1, Int((share * 100).rounded())))
        }
        for (pool, scale) in state.scale {
            for spare in scale.activeSpares where states[TargetID(pool: pool, server: spare)] == nil {
                states[TargetID(pool: pool, server: spare)] = .normal
            }
            for spare in scale.retiredSpares { states[TargetID(pool: pool, server: spare)] = DesiredServerState(admin: .drain) }
        }
        return states
    }
}
