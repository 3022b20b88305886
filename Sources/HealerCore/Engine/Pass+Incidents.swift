#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The incident machine: one rule's judgement of one target, advanced once per pass.
extension Pass {
    mutating func advance(_ key: IncidentKey) {
        guard let rule = engine.rules[key.rule], let read = read(key) else { return }
        if let alert = observations.alerts[key] { considerAlert(alert, key: key, rule: rule) }
        guard var incident = state.incidents[key] else {
            if read.reading == .unhealthy { open(key, rule: rule) }
            return
        }
        incident.dryRun = rule.dryRun || safety.dryRun
        if case .unknown(let reason) = read.reading {
            if incident.frozenSince == nil {
                incident.frozenSince = now
                state.incidents[key] = incident
                note(.transition, incident, reason: "data unknown (\(reason.rawValue)): timers frozen, nothing undone, nothing started")
            }
            state.incidents[key] = incident
            return
        }
        thaw(&incident)
        incident.lastValue = read.value
        state.incidents[key] = incident
        if let failed = observations.failedSteps[key], incident.appliedStep == failed.step, incident.phase != .recovering,
            isUnhealthyEvidence(key)
        {
            retryFailedStep(key, failed, rule: rule)
            return
        }
        switch incident.phase {
        case .pending: advancePending(key, rule: rule)
        case .firing: advanceFiring(key, rule: rule)
        case .recovering: advanceRecovering(key, rule: rule)
        case .quarantined: advanceQuarantined(key, rule: rule)
        }
    }

    /// An alert is a hint, never a command: it counts only when the rule's own query, this pass, says unhealthy.
    /// Then the incident opens (if needed) already past `for`, since the alert's own `for` has passed.
    private mutating func considerAlert(_ alert: String, key: IncidentKey, rule: RecoveryRule) {
        guard read(key)?.reading == .unhealthy else {
            let shown = read(key)?.value.map { "value \($0)" } ?? "no trustworthy value"
            records.append(
                DecisionRecord(
                    time: now, kind: .transition, pool: key.target.pool, rule: key.rule, server: key.target.server, verdict: verdict(key),
                    value: read(key)?.value, reason: "alert \(alert) not confirmed by the rule's own query (\(shown)); ignored"))
            return
        }
        if state.incidents[key] == nil {
            var incident = Incident(key: key, openedAt: now, dryRun: rule.dryRun || safety.dryRun)
            incident.lastValue = read(key)?.value
            state.incidents[key] = incident
        }
        guard var incident = state.incidents[key], incident.phase == .pending else { return }
        incident.openedAt = min(incident.openedAt, now.addingTimeInterval(-rule.pendingFor.seconds))
        state.incidents[key] = incident
        note(.transition, incident, reason: "alert \(alert) confirmed by the rule's own query: firing without waiting for `for`")
    }

    /// Marks an incident whose rule or target produced no reading this pass as frozen.
    mutating func freeze(_ key: IncidentKey) {
        guard var incident = state.incidents[key], incident.frozenSince == nil else { return }
        incident.frozenSince = now
        state.incidents[key] = incident
        note(.transition, incident, reason: "no data for this target: timers frozen, nothing undone")
    }

    /// Whether the reading counts as unhealthy evidence (a flapping target's healthy readings do).
    private func isUnhealthyEvidence(_ key: IncidentKey) -> Bool {
        switch read(key)?.reading {
        case .unhealthy?: true
        case .healthy?: isFlapping(key)
        default: false
        }
    }

    private func isHealthyEvidence(_ key: IncidentKey) -> Bool {
        read(key)?.reading == .healthy && !isFlapping(key)
    }

    private mutating func open(_ key: IncidentKey, rule: RecoveryRule) {
        var incident = Incident(key: key, openedAt: now, dryRun: rule.dryRun || safety.dryRun)
        incident.lastValue = read(key)?.value
        state.incidents[key] = incident
        note(.transition, incident, reason: "unhealthy (\(rule.unhealthy)); pending for \(PrometheusDuration.format(rule.pendingFor))")
        advancePending(key, rule: rule)
    }

    /// Shifts every timer by the time data was unknown, so that unknown time counts for nothing.
    private func thaw(_ incident: inout Incident) {
        guard let frozen = incident.frozenSince else { return }
        let gap = now.timeIntervalSince(frozen)
        incident.openedAt += gap
        incident.firedAt = incident.firedAt.map { $0 + gap }
        incident.stepAppliedAt = incident.stepAppliedAt.map { $0 + gap }
        incident.healthySince = incident.healthySince.map { $0 + gap }
        incident.recoveryStateAt = incident.recoveryStateAt.map { $0 + gap }
        incident.frozenSince = nil
    }

    // MARK: - Phases

    private mutating func advancePending(_ key: IncidentKey, rule: RecoveryRule) {
        guard var incident = state.incidents[key] else { return }
        if isHealthyEvidence(key) {
            state.incidents[key] = nil
            note(.transition, incident, closing: true, reason: "healthy again before firing; nothing done")
            return
        }
        guard isUnhealthyEvidence(key) || read(key)?.reading == .band,
            now.timeIntervalSince(incident.openedAt) >= rule.pendingFor.seconds
        else { return }
        incident.phase = .firing
        incident.firedAt = now
        incident.wantedStep = 0
        state.incidents[key] = incident
        milestones.append(Engine.Milestone(kind: .detection, pool: key.target.pool, seconds: now.timeIntervalSince(incident.openedAt)))
        note(.transition, incident, reason: "firing: unhealthy for \(PrometheusDuration.format(rule.pendingFor))")
        attemptStep(key, rule: rule)
    }

    /// Starts or continues the incident's healthy streak and returns how long it has lasted.
    private mutating func healthyStreak(_ key: IncidentKey) -> TimeInterval {
        guard var incident = state.incidents[key] else { return 0 }
        let since = incident.healthySince ?? now
        incident.healthySince = since
        state.incidents[key] = incident
        return now.timeIntervalSince(since)
    }

    private mutating func advanceFiring(_ key: IncidentKey, rule: RecoveryRule) {
        guard var incident = state.incidents[key] else { return }
        if isHealthyEvidence(key) {
            if healthyStreak(key) >= rule.clearFor.seconds {
                startRecovery(key, rule: rule, reason: "healthy for \(PrometheusDuration.format(rule.clearFor))")
            }
            return
        }
        guard isUnhealthyEvidence(key) else { return }  // the band: no change
        incident.healthySince = nil
        if incident.wantedStep == nil, let applied = incident.appliedStep, let appliedAt = incident.stepAppliedAt,
            now.timeIntervalSince(appliedAt) >= rule.ladder[applied].verify.seconds
        {
            incident.wantedStep = applied + 1
            state.incidents[key] = incident
            let why = isFlapping(key) ? "flapping" : "still unhealthy"
            note(
                .transition, incident,
                reason: "escalating: \(why) \(PrometheusDuration.format(rule.ladder[applied].verify)) after \(rule.ladder[applied].action.name)")
        }
        state.incidents[key] = incident
        if incident.wantedStep != nil { attemptStep(key, rule: rule) }
    }

    private mutating func advanceRecovering(_ key: IncidentKey, rule: RecoveryRule) {
        guard var incident = state.incidents[key] else { return }
        if isUnhealthyEvidence(key) {
            // A relapse re-applies the step in force; the incident stays `recovering` until that step passes
            // the gates (the in-flight limit among them), so that it cannot slip back into flight unchecked.
            incident.healthySince = nil
            if incident.wantedStep == nil {
                incident.wantedStep = incident.appliedStep ?? 0
                state.incidents[key] = incident
                note(.transition, incident, reason: "relapse while giving capacity back: re-applying step \(incident.wantedStep! + 1)")
            }
            state.incidents[key] = incident
            attemptStep(key, rule: rule)
            return
        }
        guard isHealthyEvidence(key) else { return }
        if incident.wantedStep != nil {
            incident.wantedStep = nil  // healthy again before the relapse could be acted on
            incident.lastSuppression = nil
            state.incidents[key] = incident
        }
        if let at = incident.recoveryStateAt, now.timeIntervalSince(at) < rule.rampStep.seconds { return }
        attemptRestore(key, rule: rule)
    }

    private mutating func advanceQuarantined(_ key: IncidentKey, rule: RecoveryRule) {
        guard var incident = state.incidents[key] else { return }
        if isHealthyEvidence(key) {
            let streak = healthyStreak(key)
            if case .quarantine(_, let releaseAfter?)? = rule.ladder.last?.action, streak >= releaseAfter.seconds {
                startRecovery(key, rule: rule, reason: "released from quarantine after \(PrometheusDuration.format(releaseAfter)) healthy")
            }
        } else if isUnhealthyEvidence(key) {
            incident.healthySince = nil
            state.incidents[key] = incident
        }
    }

    /// A step whose action failed is not in force: while the server is still unhealthy it is wanted again, through
    /// the gates (and the budget, so a restart that keeps failing ends in quarantine), instead of being verified as
    /// if it had worked. A server healthy again is not restarted again: the failure may have been the report only.
    private mutating func retryFailedStep(_ key: IncidentKey, _ failed: FailedStep, rule: RecoveryRule) {
        guard var incident = state.incidents[key] else { return }
        incident.wantedStep = failed.step
        incident.stepAppliedAt = nil
        state.incidents[key] = incident
        note(.transition, incident, reason: "step \(failed.step + 1) failed (\(failed.detail)): not in force; trying it again")
        attemptStep(key, rule: rule)
    }

    /// Starts giving capacity back, beginning with the first recovery stage.
    mutating func startRecovery(_ key: IncidentKey, rule: RecoveryRule, reason: String) {
        guard var incident = state.incidents[key] else { return }
        let current = desiredState(of: incident)
        incident.phase = .recovering
        incident.wantedStep = nil
        incident.recoveryStages = RemedyEffects.recoveryStages(from: current, rampStart: rule.rampStartPercent)
        incident.recoveryState = current
        incident.recoveryStateAt = nil
        state.incidents[key] = incident
        note(.transition, incident, reason: "recovering: \(reason)")
        attemptRestore(key, rule: rule)
    }

    // MARK: - Acting

    /// Tries to apply the incident's wanted step through the gates.
    private mutating func attemptStep(_ key: IncidentKey, rule: RecoveryRule) {
        guard var incident = state.incidents[key], var step = incident.wantedStep else { return }
        let quarantineStep = rule.ladder.count - 1
        let attempts = attemptsInWindow(key, rule: rule)
        if step < quarantineStep, attempts >= rule.budget.maxAttempts {
            step = quarantineStep
            incident.wantedStep = step
            state.incidents[key] = incident
            note(
                .transition, incident,
                reason: "budget exhausted: \(attempts) remedies in \(PrometheusDuration.format(rule.budget.window)); quarantining")
        }
        let ladderStep = rule.ladder[step]
        if case .restart = ladderStep.action, let applied = incident.appliedStep, case .drain(let wait) = rule.ladder[applied].action,
            let drainedAt = incident.stepAppliedAt, let sessions = observations.sessions[key.target], sessions > 0,
            now.timeIntervalSince(drainedAt) < wait.seconds
        {
            if !incident.waitingForSessions {
                incident.waitingForSessions = true
                state.incidents[key] = incident
                note(
                    .transition, incident,
                    reason:
                        "restart waits for \(sessions) session\(sessions == 1 ? "" : "s") to end (at most \(PrometheusDuration.format(wait)) after the drain)"
                )
            }
            return
        }
        incident.waitingForSessions = false
        let newState = RemedyEffects.state(after: step, of: rule.ladder)
        let actionName = Self.describe(ladderStep.action)
        let check = evaluateGates(.remedy(incident, step: step, after: newState))
        guard check.suppressedBy == nil else {
            if incident.lastSuppression != check.suppressedBy {
                incident.lastSuppression = check.suppressedBy
                state.incidents[key] = incident
                note(
                    .suppressed, incident, step: step, action: actionName, gates: check.passed, suppressedBy: check.suppressedBy,
                    reason: check.reason)
            }
            return
        }
        _ = incident.dryRun ? state.dryRunRateLimiter.take() : state.rateLimiter.take()
        if step < quarantineStep { state.attempts[key, default: []].append(now) }
        if incident.appliedStep == nil, let fired = incident.firedAt, !incident.dryRun {
            milestones.append(Engine.Milestone(kind: .mitigation, pool: key.target.pool, seconds: now.timeIntervalSince(fired)))
        }
        state.lastActionAt[key.target] = now
        incident.appliedStep = step
        incident.stepAppliedAt = now
        incident.wantedStep = nil
        incident.healthySince = nil
        incident.recoveryState = nil
        incident.recoveryStages = []
        incident.lastSuppression = nil
        incident.phase = step == quarantineStep ? .quarantined : .firing
        state.incidents[key] = incident
        for kind in Self.actions(for: ladderStep.action) {
            actions.append(PlannedAction(key: key, kind: kind, step: step, dryRun: incident.dryRun))
        }
        let verify = step == quarantineStep ? "waiting for a human" : "verifying for \(PrometheusDuration.format(ladderStep.verify))"
        note(.action, incident, step: step, action: actionName, gates: check.passed, reason: "step \(step + 1): \(actionName); \(verify)")
    }

    /// Applies the next recovery stage through the gates that protect giving capacity back.
    private mutating func attemptRestore(_ key: IncidentKey, rule: RecoveryRule) {
        guard var incident = state.incidents[key] else { return }
        guard let next = incident.recoveryStages.first else {
            state.incidents[key] = nil
            if let fired = incident.firedAt, !incident.dryRun {
                milestones.append(Engine.Milestone(kind: .recovery, pool: key.target.pool, seconds: now.timeIntervalSince(fired)))
            }
            note(.transition, incident, closing: true, reason: "recovered: full weight, in rotation")
            return
        }
        let check = evaluateGates(.restore(incident))
        guard check.suppressedBy == nil else {
            if incident.lastSuppression != check.suppressedBy {
                incident.lastSuppression = check.suppressedBy
                state.incidents[key] = incident
                note(.suppressed, incident, action: "restore \(next)", gates: check.passed, suppressedBy: check.suppressedBy, reason: check.reason)
            }
            return
        }
        let previous = incident.recoveryState ?? .normal
        incident.recoveryStages.removeFirst()
        incident.recoveryState = next
        incident.recoveryStateAt = now
        incident.lastSuppression = nil
        state.incidents[key] = incident
        if previous.admin != next.admin {
            actions.append(PlannedAction(key: key, kind: .setState(next.admin, waitSessions: nil), step: nil, dryRun: incident.dryRun))
        }
        if previous.weightPercent != next.weightPercent {
            actions.append(PlannedAction(key: key, kind: .setWeight(percent: next.weightPercent), step: nil, dryRun: incident.dryRun))
        }
        note(.action, incident, action: "restore \(next)", gates: check.passed, reason: "giving capacity back: \(previous) → \(next)")
    }

    static func actions(for action: LadderStep.Action) -> [PlannedAction.Kind] {
        switch action {
        case .setWeight(let percent): [.setWeight(percent: percent)]
        case .drain(let wait): [.setState(.drain, waitSessions: wait)]
        case .restart(let actuator): [.run(actuator: actuator)]
        case .quarantine(let notify, _): [.setState(.drain, waitSessions: nil)] + (notify.map { [.notify(actuator: $0)] } ?? [])
        }
    }

    static func describe(_ action: LadderStep.Action) -> String {
        switch action {
        case .setWeight(let percent): "set_weight \(percent)%"
        case .drain: "drain"
        case .restart(let actuator): "restart \(actuator)"
        case .quarantine(let notify, _): "quarantine" + (notify.map { " (notify \($0))" } ?? "")
        }
    }

    // MARK: - Records

    /// Records a decision about `incident`; `closing` when the decision ends it (the record's phase is then
    /// ``DecisionRecord/Phase/closed``, whatever phase the incident was in).
    mutating func note(
        _ kind: DecisionRecord.Kind, _ incident: Incident, closing: Bool = false, step: Int? = nil, action: String? = nil,
        gates: [Gate] = [], suppressedBy: Gate? = nil, reason: String
    ) {
        let read = read(incident.key)
        var unknownReason: UnknownReason?
        if case .unknown(let why)? = read?.reading { unknownReason = why }
        records.append(
            DecisionRecord(
                time: now, kind: kind, pool: incident.key.target.pool, rule: incident.key.rule, server: incident.key.target.server,
                verdict: read == nil ? .unknown : verdict(incident.key), value: read?.value, unknownReason: unknownReason,
                sampleTime: read?.sampleTime, phase: closing ? .closed : DecisionRecord.Phase(incident.phase), step: step ?? incident.appliedStep,
                action: action, gatesPassed: gates, suppressedBy: suppressedBy, dryRun: incident.dryRun, reason: reason))
    }
}
