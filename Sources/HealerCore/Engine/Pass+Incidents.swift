#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Whether an incident goes on after a transition, or ends.
enum IncidentFate {
    case keep
    case close
}

/// The incident machine: one rule's judgement of one target, advanced once per pass. The incident is read from the
/// state once, every transition works on that one value, and it is written back once (or removed when it ends);
/// what a transition does besides — actions, records, milestones, attempts, rate tokens — goes to the pass.
extension Pass {
    mutating func advance(_ key: IncidentKey) {
        guard let rule = engine.rules[key.rule], let read = read(key) else { return }
        var incident = state.incidents[key]
        if let alert = observations.alerts[key] { considerAlert(alert, &incident, key: key, rule: rule) }
        if var current = incident {
            incident = advance(&current, read: read, rule: rule) == .keep ? current : nil
        } else if read.reading == .unhealthy {
            var opened = open(key, rule: rule)
            incident = advancePending(&opened, reading: read.reading, rule: rule) == .keep ? opened : nil
        }
        store(incident, at: key)
    }

    /// One transition of an open incident on this pass's reading.
    private mutating func advance(_ incident: inout Incident, read: PoolReadings.Cell, rule: RecoveryRule) -> IncidentFate {
        incident.dryRun = rule.dryRun || safety.dryRun
        if case .unknown(let reason) = read.reading {
            if incident.frozenSince == nil {
                incident.frozenSince = now
                note(.transition, incident, because: .dataUnknown(reason))
            }
            return .keep
        }
        thaw(&incident)
        incident.lastValue = read.value
        if let failed = observations.failedSteps[incident.key], incident.appliedStep == failed.step, incident.phase != .recovering,
            isUnhealthyEvidence(incident.key, read.reading)
        {
            return retryFailedStep(&incident, failed, rule: rule)
        }
        switch incident.phase {
        case .pending: return advancePending(&incident, reading: read.reading, rule: rule)
        case .firing: return advanceFiring(&incident, reading: read.reading, rule: rule)
        case .recovering: return advanceRecovering(&incident, reading: read.reading, rule: rule)
        case .quarantined: return advanceQuarantined(&incident, reading: read.reading, rule: rule)
        }
    }

    /// An alert is a hint, never a command: it counts only when the rule's own query, this pass, says unhealthy.
    /// Then the incident opens (if needed) already past `for`, since the alert's own `for` has passed.
    private mutating func considerAlert(_ alert: String, _ incident: inout Incident?, key: IncidentKey, rule: RecoveryRule) {
        guard read(key)?.reading == .unhealthy else {
            records.append(
                DecisionRecord(
                    time: now, kind: .transition, pool: key.target.pool, rule: key.rule, server: key.target.server, verdict: verdict(key),
                    value: read(key)?.value, because: .alertIgnored(alert: alert, value: read(key)?.value)))
            return
        }
        var current = incident ?? Incident(key: key, openedAt: now, dryRun: rule.dryRun || safety.dryRun)
        if incident == nil { current.lastValue = read(key)?.value }
        defer { incident = current }
        guard current.phase == .pending else { return }
        current.openedAt = min(current.openedAt, now.addingTimeInterval(-rule.pendingFor.seconds))
        note(.transition, current, because: .alertConfirmed(alert: alert))
    }

    /// Marks an incident whose rule or target produced no reading this pass as frozen.
    mutating func freeze(_ key: IncidentKey) {
        // A pod that left its pool is gone for good (a pod that comes back under its name, a StatefulSet's, is
        // back before this is seen, or opens a new incident): nothing is left to undo, and its replacement is
        // judged on its own. Its remedies stay counted against its budget slot.
        if let pool = engine.configuration.pools[key.target.pool], pool.selector != nil, engine.rules[key.rule] != nil,
            observations.inventory[pool.name] != nil, observations.unreachableBalancers[pool.name] == nil, let incident = state.incidents[key]
        {
            note(.transition, incident, closing: true, because: .targetGone)
            store(nil, at: key)
            return
        }
        guard var incident = state.incidents[key], incident.frozenSince == nil else { return }
        incident.frozenSince = now
        store(incident, at: key)
        note(.transition, incident, because: .noData)
    }

    /// Whether `reading`, this pass's reading of `key`, counts as unhealthy evidence (a flapping target's healthy
    /// readings do). The reading is handed in: the transitions ask several times, and a lookup hashes three names.
    private func isUnhealthyEvidence(_ key: IncidentKey, _ reading: Reading) -> Bool {
        switch reading {
        case .unhealthy: true
        case .healthy: isFlapping(key)
        default: false
        }
    }

    private func isHealthyEvidence(_ key: IncidentKey, _ reading: Reading) -> Bool {
        reading == .healthy && !isFlapping(key)
    }

    private mutating func open(_ key: IncidentKey, rule: RecoveryRule) -> Incident {
        var incident = Incident(key: key, openedAt: now, dryRun: rule.dryRun || safety.dryRun)
        incident.lastValue = read(key)?.value
        note(.transition, incident, because: .pending(unhealthy: "\(rule.unhealthy)", pendingFor: rule.pendingFor))
        return incident
    }

    /// Shifts every timer by the time data was unknown, so that unknown time counts for nothing.
    private func thaw(_ incident: inout Incident) {
        guard let frozen = incident.frozenSince else { return }
        let gap = now.timeIntervalSince(frozen)
        incident.openedAt += gap
        incident.updateRemedy { remedy in
            remedy.firedAt += gap
            remedy.stepAppliedAt = remedy.stepAppliedAt.map { $0 + gap }
        }
        incident.healthySince = incident.healthySince.map { $0 + gap }
        incident.updateRecovery { $0.stateAt = $0.stateAt.map { $0 + gap } }
        incident.frozenSince = nil
    }

    // MARK: - Phases

    private mutating func advancePending(_ incident: inout Incident, reading: Reading, rule: RecoveryRule) -> IncidentFate {
        let key = incident.key
        if isHealthyEvidence(key, reading) {
            note(.transition, incident, closing: true, because: .healthyBeforeFiring)
            return .close
        }
        guard isUnhealthyEvidence(key, reading) || reading == .band,
            now.timeIntervalSince(incident.openedAt) >= rule.pendingFor.seconds
        else { return .keep }
        incident.stage = .firing(Incident.Remedy(firedAt: now, wantedStep: 0))
        milestones.append(Engine.Milestone(kind: .detection, pool: key.target.pool, seconds: now.timeIntervalSince(incident.openedAt)))
        note(.transition, incident, because: .firing(pendingFor: rule.pendingFor))
        attemptStep(&incident, rule: rule)
        return .keep
    }

    /// Starts or continues the incident's healthy streak and returns how long it has lasted.
    private func healthyStreak(_ incident: inout Incident) -> TimeInterval {
        let since = incident.healthySince ?? now
        incident.healthySince = since
        return now.timeIntervalSince(since)
    }

    private mutating func advanceFiring(_ incident: inout Incident, reading: Reading, rule: RecoveryRule) -> IncidentFate {
        let key = incident.key
        if isHealthyEvidence(key, reading) {
            if healthyStreak(&incident) >= rule.clearFor.seconds {
                return startRecovery(&incident, rule: rule, because: .healthyFor(rule.clearFor))
            }
            return .keep
        }
        guard isUnhealthyEvidence(key, reading) else { return .keep }  // the band: no change
        incident.healthySince = nil
        if incident.wantedStep == nil, let applied = incident.appliedStep, let appliedAt = incident.stepAppliedAt,
            now.timeIntervalSince(appliedAt) >= rule.ladder[applied].verify.seconds
        {
            incident.updateRemedy { $0.wantedStep = applied + 1 }
            note(
                .transition, incident,
                because: .escalating(
                    flapping: isFlapping(key), verify: rule.ladder[applied].verify, after: DecisionAction(rule.ladder[applied].action)))
        }
        if incident.wantedStep != nil { attemptStep(&incident, rule: rule) }
        return .keep
    }

    private mutating func advanceRecovering(_ incident: inout Incident, reading: Reading, rule: RecoveryRule) -> IncidentFate {
        let key = incident.key
        if isUnhealthyEvidence(key, reading) {
            // A relapse re-applies the step in force; the incident stays `recovering` until that step passes
            // the gates (the in-flight limit among them), so that it cannot slip back into flight unchecked.
            incident.healthySince = nil
            if incident.wantedStep == nil {
                let step = incident.appliedStep ?? 0
                incident.updateRemedy { $0.wantedStep = step }
                // Flapping, the healthy readings of this very pass count as unhealthy: say so, or it reads as a contradiction.
                note(.transition, incident, because: .relapse(step: step, flapping: reading != .unhealthy && isFlapping(key)))
            }
            attemptStep(&incident, rule: rule)
            return .keep
        }
        guard isHealthyEvidence(key, reading) else { return .keep }
        if incident.wantedStep != nil {
            incident.updateRemedy { $0.wantedStep = nil }  // healthy again before the relapse could be acted on
            incident.lastSuppression = nil
        }
        if let at = incident.recoveryStateAt, now.timeIntervalSince(at) < rule.rampStep.seconds { return .keep }
        return attemptRestore(&incident, rule: rule)
    }

    private mutating func advanceQuarantined(_ incident: inout Incident, reading: Reading, rule: RecoveryRule) -> IncidentFate {
        if isHealthyEvidence(incident.key, reading) {
            let streak = healthyStreak(&incident)
            if case .quarantine(_, let releaseAfter?)? = rule.ladder.last?.action, streak >= releaseAfter.seconds {
                return startRecovery(&incident, rule: rule, because: .releasedAfter(releaseAfter))
            }
        } else if isUnhealthyEvidence(incident.key, reading) {
            incident.healthySince = nil
        }
        return .keep
    }

    /// A step whose action failed is not in force: while the server is still unhealthy it is wanted again, through
    /// the gates (and the budget, so a restart that keeps failing ends in quarantine), instead of being verified as
    /// if it had worked. A server healthy again is not restarted again: the failure may have been the report only.
    private mutating func retryFailedStep(_ incident: inout Incident, _ failed: FailedStep, rule: RecoveryRule) -> IncidentFate {
        incident.updateRemedy { remedy in
            remedy.wantedStep = failed.step
            remedy.stepAppliedAt = nil
        }
        note(.transition, incident, because: .stepFailed(step: failed.step, detail: failed.detail))
        if failed.refusedForNow, let last = state.attempts[budgetKey(incident.key)]?.indices.last {
            state.attempts[budgetKey(incident.key)]?.remove(at: last)  // nothing was done: it spent no budget
        }
        attemptStep(&incident, rule: rule)
        return .keep
    }

    /// Starts giving capacity back to the incident of `key` (an operator's release).
    mutating func startRecovery(_ key: IncidentKey, rule: RecoveryRule, because cause: DecisionReason.RecoveryCause) {
        guard var incident = state.incidents[key] else { return }
        store(startRecovery(&incident, rule: rule, because: cause) == .keep ? incident : nil, at: key)
    }

    /// Starts giving capacity back, beginning with the first recovery stage.
    private mutating func startRecovery(_ incident: inout Incident, rule: RecoveryRule, because cause: DecisionReason.RecoveryCause)
        -> IncidentFate
    {
        guard var remedy = incident.remedy else { return .keep }  // a pending incident has nothing to give back
        let current = desiredState(of: incident)
        remedy.wantedStep = nil
        // A pod has no weight: it comes back in one step, in service.
        let pods = engine.configuration.pools[incident.key.target.pool]?.selector != nil
        let stages =
            pods
            ? (current.map { $0 == .normal ? [] : [.normal] } ?? []) : RemedyEffects.recoveryStages(from: current, rampStart: rule.rampStartPercent)
        incident.stage = .recovering(remedy, Incident.Recovery(stages: stages, state: current, stateAt: nil))
        note(.transition, incident, because: .recovering(cause))
        return attemptRestore(&incident, rule: rule)
    }

    // MARK: - Acting

    /// Tries to apply the incident's wanted step through the gates.
    private mutating func attemptStep(_ incident: inout Incident, rule: RecoveryRule) {
        guard var step = incident.wantedStep else { return }
        let key = incident.key
        let quarantineStep = rule.ladder.count - 1
        let attempts = attemptsInWindow(key, rule: rule)
        if step < quarantineStep, attempts >= rule.budget.maxAttempts {
            step = quarantineStep
            incident.updateRemedy { $0.wantedStep = quarantineStep }
            note(.transition, incident, because: .budgetExhausted(attempts: attempts, window: rule.budget.window))
        }
        let ladderStep = rule.ladder[step]
        if case .restart = ladderStep.action, let applied = incident.appliedStep, case .drain(let wait) = rule.ladder[applied].action,
            let drainedAt = incident.stepAppliedAt, let sessions = observations.sessions[key.target], sessions > 0,
            now.timeIntervalSince(drainedAt) < wait.seconds
        {
            if !incident.waitingForSessions {
                incident.updateRemedy { $0.waitingForSessions = true }
                note(.transition, incident, because: .waitingForSessions(sessions: sessions, wait: wait))
            }
            return
        }
        incident.updateRemedy { $0.waitingForSessions = false }
        let newState = RemedyEffects.state(after: step, of: rule.ladder)
        let action = DecisionAction(ladderStep.action)
        let check = evaluateGates(.remedy(incident, step: step, after: newState))
        if let hold = check.hold {
            if incident.lastSuppression != check.suppressedBy {
                incident.lastSuppression = check.suppressedBy
                note(
                    .suppressed, incident, step: step, action: action, gates: check.passed, suppressedBy: check.suppressedBy,
                    because: .heldBack(hold))
            }
            return
        }
        _ = incident.dryRun ? state.dryRunRateLimiter.take() : state.rateLimiter.take()
        if step < quarantineStep { state.attempts[budgetKey(key), default: []].append(now) }
        if incident.appliedStep == nil, let fired = incident.firedAt, !incident.dryRun {
            milestones.append(Engine.Milestone(kind: .mitigation, pool: key.target.pool, seconds: now.timeIntervalSince(fired)))
        }
        state.lastActionAt[key.target] = now
        // A step is due only on a fired incident (wantedStep lives in its remedy), so the remedy is there.
        assert(incident.remedy != nil, "a step applied to a pending incident")
        var remedy = incident.remedy ?? Incident.Remedy(firedAt: now)
        remedy.appliedStep = step
        remedy.stepAppliedAt = now
        remedy.wantedStep = nil
        incident.stage = step == quarantineStep ? .quarantined(remedy) : .firing(remedy)  // a relapse's recovery ends here
        incident.healthySince = nil
        incident.lastSuppression = nil
        // The effects: the state the step sets (all but a restart set one; `newState` is then never nil), and the
        // actuator a restart runs or a quarantine notifies.
        let change = BalancerChange(key: key, action: action, state: newState ?? .normal, step: step, dryRun: incident.dryRun)
        func call(_ actuator: String) -> ActuatorCall {
            ActuatorCall(key: key, action: action, actuator: actuator, step: step, dryRun: incident.dryRun)
        }
        switch ladderStep.action {
        case .setWeight, .drain: changes.append(change)
        case .restart(let actuator): calls.append(call(actuator))
        case .quarantine(let notify, _):
            changes.append(change)
            if let notify { calls.append(call(notify)) }
        }
        note(
            .action, incident, step: step, action: action, gates: check.passed,
            because: .stepApplied(step: step, action: action, verify: step == quarantineStep ? nil : ladderStep.verify))
    }

    /// Applies the next recovery stage through the gates that protect giving capacity back; the incident ends when
    /// none is left.
    private mutating func attemptRestore(_ incident: inout Incident, rule: RecoveryRule) -> IncidentFate {
        let key = incident.key
        guard let next = incident.recoveryStages.first else {
            if let fired = incident.firedAt, !incident.dryRun {
                milestones.append(Engine.Milestone(kind: .recovery, pool: key.target.pool, seconds: now.timeIntervalSince(fired)))
            }
            note(.transition, incident, closing: true, because: .recovered)
            return .close
        }
        let check = evaluateGates(.restore(incident))
        if let hold = check.hold {
            if incident.lastSuppression != check.suppressedBy {
                incident.lastSuppression = check.suppressedBy
                note(
                    .suppressed, incident, action: .restore(next), gates: check.passed, suppressedBy: check.suppressedBy,
                    because: .heldBack(hold))
            }
            return .keep
        }
        let previous = incident.recoveryState ?? .normal
        incident.updateRecovery { recovery in
            recovery.stages.removeFirst()
            recovery.state = next
            recovery.stateAt = now
        }
        incident.lastSuppression = nil
        if previous != next {
            changes.append(BalancerChange(key: key, action: .restore(next), state: next, step: nil, dryRun: incident.dryRun))
        }
        note(.action, incident, action: .restore(next), gates: check.passed, because: .restoring(from: previous, to: next))
        return .keep
    }

    // MARK: - Records

    /// Records a decision about `incident`; `closing` when the decision ends it (the record's phase is then
    /// ``DecisionRecord/Phase/closed``, whatever phase the incident was in).
    mutating func note(
        _ kind: DecisionRecord.Kind, _ incident: Incident, closing: Bool = false, step: Int? = nil, action: DecisionAction? = nil,
        gates: [Gate] = [], suppressedBy: Gate? = nil, because reason: DecisionReason
    ) {
        let read = read(incident.key)
        var unknownReason: UnknownReason?
        if case .unknown(let why)? = read?.reading { unknownReason = why }
        records.append(
            DecisionRecord(
                time: now, kind: kind, pool: incident.key.target.pool, rule: incident.key.rule, server: incident.key.target.server,
                verdict: read == nil ? .unknown : verdict(incident.key), value: read?.value, unknownReason: unknownReason,
                sampleTime: read?.sampleTime, phase: closing ? .closed : DecisionRecord.Phase(incident.phase), step: step ?? incident.appliedStep,
                action: action, gatesPassed: gates, suppressedBy: suppressedBy, dryRun: incident.dryRun, because: reason))
    }
}
