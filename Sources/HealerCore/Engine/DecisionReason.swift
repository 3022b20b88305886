/// Why a decision was made, as data: a ``DecisionRecord``'s ``DecisionRecord/code`` is its case, and its
/// ``DecisionRecord/reason`` sentence is rendered from it here, the one place those sentences are written.
public enum DecisionReason: Sendable, Equatable {
    /// Why an incident began giving capacity back.
    public enum RecoveryCause: Sendable, Equatable {
        /// Healthy for the rule's `clear_for`.
        case healthyFor(Duration)
        /// Out of quarantine after `release_after` healthy.
        case releasedAfter(Duration)
        /// Released from quarantine by an operator.
        case releasedByOperator
    }

    // The incident machine.
    /// The target's data is unknown: timers freeze.
    case dataUnknown(UnknownReason)
    /// The rule produced no reading for the target: timers freeze.
    case noData
    /// The pod left its pool (deleted, replaced): the incident closes, its budget stays with the pod's owner.
    case targetGone
    /// An alert the rule's own query did not confirm.
    case alertIgnored(alert: String, value: Double?)
    /// An alert the rule's own query confirmed: the incident fires without waiting for `for`.
    case alertConfirmed(alert: String)
    /// Unhealthy: an incident opens, pending for the rule's `for`.
    case pending(unhealthy: String, pendingFor: Duration)
    /// Healthy again before firing.
    case healthyBeforeFiring
    /// Unhealthy for `for`: the incident fires.
    case firing(pendingFor: Duration)
    /// The step in force did not help within its verification window (or the target flaps).
    case escalating(flapping: Bool, verify: Duration, after: DecisionAction)
    /// Unhealthy again while capacity was being given back: step `step` (from 0) is applied again.
    case relapse(step: Int, flapping: Bool)
    /// Giving capacity back begins.
    case recovering(RecoveryCause)
    /// Step `step` (from 0) failed and is tried again.
    case stepFailed(step: Int, detail: String)
    /// The remedy budget ran out: quarantine.
    case budgetExhausted(attempts: Int, window: Duration)
    /// A restart waits for the drained server's sessions to end.
    case waitingForSessions(sessions: Int, wait: Duration)
    /// A gate held the decision back; the record's ``DecisionRecord/suppressedBy`` names it, this says why.
    case heldBack(GateHold)
    /// Step `step` (from 0) applied; verified for `verify`, or, for quarantine (`nil`), left to a human.
    case stepApplied(step: Int, action: DecisionAction, verify: Duration?)
    /// Back at full weight, in rotation: the incident closes.
    case recovered
    /// One stage of giving capacity back.
    case restoring(from: DesiredServerState, to: DesiredServerState)

    // Spares.
    /// Load above the scale rule's `out_above`: a spare enters rotation.
    case scaleOut(reading: String, above: Double, spare: String)
    /// Load below the scale rule's `in_below`: a spare leaves rotation.
    case scaleIn(reading: String, below: Double, spare: String)

    // Rules.
    /// The rule's query answers again.
    case ruleAnswers(rule: String)
    /// The rule's query failed.
    case ruleFailed(rule: String, failure: RuleFailure)
    /// The data behind the rule is fresh again.
    case ruleFresh(rule: String)
    /// The data behind the rule is too old for `newly` more servers, `total` in all.
    case ruleStale(rule: String, maxSampleAge: Duration?, newly: [String], total: Int)

    // Pools and Healer.
    /// Too much of `scope` (a pool, or `*`) is unhealthy or unknown: destructive actions freeze.
    case stormStarted(scope: String, troubled: Int, total: Int, threshold: Double)
    /// The storm ended after `seconds`; destructive actions resume after `cooldown`.
    case stormOver(seconds: Int, cooldown: Duration)
    /// The storm ended after `seconds`; it saw missing data, not unhealthy servers, so no cooldown.
    case stormOverWithoutCooldown(seconds: Int)
    /// An operator paused or resumed Healer or a pool.
    case operatorPaused(Bool)
    /// The saved state could not be read: the pass did nothing.
    case stateUnreadable
    /// The state could not be saved: the pass did nothing new.
    case stateUnsaved(detail: String)
    /// This replica took over as leader in `epoch`, resuming the shared state with `incidents` open.
    case leaderTookOver(epoch: Int, holder: String, incidents: Int)
    /// This replica stopped leading; `holder` leads now, when known.
    case leaderStepDown(holder: String?)

    /// The case, without its parameters: what a record's `code` says. A code this build does not know (written by a
    /// newer Healer before a rollback) reads as ``unknown``, so the record is kept.
    public enum Code: String, Sendable, Codable, CaseIterable {
        case unknown
        case dataUnknown = "data_unknown", noData = "no_data", targetGone = "target_gone", alertIgnored = "alert_ignored", alertConfirmed =
            "alert_confirmed"
        case pending, healthyBeforeFiring = "healthy_before_firing", firing, escalating, relapse, recovering
        case stepFailed = "step_failed", budgetExhausted = "budget_exhausted", waitingForSessions = "waiting_for_sessions"
        case heldBack = "held_back", stepApplied = "step_applied", recovered, restoring, scaleOut = "scale_out", scaleIn = "scale_in"
        case ruleAnswers = "rule_answers", ruleFailed = "rule_failed", ruleFresh = "rule_fresh", ruleStale = "rule_stale"
        case stormStarted = "storm_started", stormOver = "storm_over", stormOverWithoutCooldown = "storm_over_without_cooldown"
        case operatorPaused = "operator_paused", operatorResumed = "operator_resumed", stateUnreadable = "state_unreadable"
        case stateUnsaved = "state_unsaved", leaderTookOver = "leader_took_over", leaderStepDown = "leader_step_down"

        public init(from decoder: any Decoder) throws {
            self = Code(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
        }
    }

    /// The case, without its parameters.
    public var code: Code {
        switch self {
        case .dataUnknown: .dataUnknown
        case .noData: .noData
        case .targetGone: .targetGone
        case .alertIgnored: .alertIgnored
        case .alertConfirmed: .alertConfirmed
        case .pending: .pending
        case .healthyBeforeFiring: .healthyBeforeFiring
        case .firing: .firing
        case .escalating: .escalating
        case .relapse: .relapse
        case .recovering: .recovering
        case .stepFailed: .stepFailed
        case .budgetExhausted: .budgetExhausted
        case .waitingForSessions: .waitingForSessions
        case .heldBack: .heldBack
        case .stepApplied: .stepApplied
        case .recovered: .recovered
        case .restoring: .restoring
        case .scaleOut: .scaleOut
        case .scaleIn: .scaleIn
        case .ruleAnswers: .ruleAnswers
        case .ruleFailed: .ruleFailed
        case .ruleFresh: .ruleFresh
        case .ruleStale: .ruleStale
        case .stormStarted: .stormStarted
        case .stormOver: .stormOver
        case .stormOverWithoutCooldown: .stormOverWithoutCooldown
        case .operatorPaused(let paused): paused ? .operatorPaused : .operatorResumed
        case .stateUnreadable: .stateUnreadable
        case .stateUnsaved: .stateUnsaved
        case .leaderTookOver: .leaderTookOver
        case .leaderStepDown: .leaderStepDown
        }
    }

    /// The sentence for people.
    public var sentence: String {
        func format(_ duration: Duration) -> String { PrometheusDuration.format(duration) }
        switch self {
        case .dataUnknown(let reason): return "data unknown (\(reason.rawValue)): timers frozen, nothing undone, nothing started"
        case .noData: return "no data for this target: timers frozen, nothing undone"
        case .targetGone: return "the pod left its pool: nothing left to undo; its replacement is judged on its own, against the same budget"
        case .alertIgnored(let alert, let value):
            return "alert \(alert) not confirmed by the rule's own query (\(value.map { "value \($0)" } ?? "no trustworthy value")); ignored"
        case .alertConfirmed(let alert): return "alert \(alert) confirmed by the rule's own query: firing without waiting for `for`"
        case .pending(let unhealthy, let pendingFor): return "unhealthy (\(unhealthy)); pending for \(format(pendingFor))"
        case .healthyBeforeFiring: return "healthy again before firing; nothing done"
        case .firing(let pendingFor): return "firing: unhealthy for \(format(pendingFor))"
        case .escalating(let flapping, let verify, let after):
            return "escalating: \(flapping ? "flapping" : "still unhealthy") \(format(verify)) after \(after.name)"
        case .relapse(let step, let flapping):
            return "relapse while giving capacity back\(flapping ? " (flapping: its healthy readings count as unhealthy)" : ""): "
                + "re-applying step \(step + 1)"
        case .recovering(.healthyFor(let clearFor)): return "recovering: healthy for \(format(clearFor))"
        case .recovering(.releasedAfter(let after)): return "recovering: released from quarantine after \(format(after)) healthy"
        case .recovering(.releasedByOperator): return "recovering: released from quarantine by an operator"
        case .stepFailed(let step, let detail): return "step \(step + 1) failed (\(detail)): not in force; trying it again"
        case .budgetExhausted(let attempts, let window): return "budget exhausted: \(attempts) remedies in \(format(window)); quarantining"
        case .waitingForSessions(let sessions, let wait):
            return "restart waits for \(sessions) session\(sessions == 1 ? "" : "s") to end (at most \(format(wait)) after the drain)"
        case .heldBack(let hold): return hold.sentence
        case .stepApplied(let step, let action, let verify):
            return "step \(step + 1): \(action); " + (verify.map { "verifying for \(format($0))" } ?? "waiting for a human")
        case .recovered: return "recovered: full weight, in rotation"
        case .restoring(let from, let to): return "giving capacity back: \(from) → \(to)"
        case .scaleOut(let reading, let above, let spare): return "scale out: \(reading) above \(percent(above)); spare \(spare) enters rotation"
        case .scaleIn(let reading, let below, let spare): return "scale in: \(reading) below \(percent(below)); spare \(spare) leaves rotation"
        case .ruleAnswers(let rule): return "rule \(rule) answers again"
        case .ruleFailed(let rule, let failure):
            let consequence =
                failure.isRuleFault
                ? "the rule itself is wrong: its verdicts are unknown, and it is left out of the storm and capacity counts that guard the pool's other rules"
                : "its verdicts are unknown and count as missing data: Healer may be partly blind"
            return "rule \(rule) cannot be evaluated (\(failure)); \(consequence)"
        case .ruleFresh(let rule): return "the data behind rule \(rule) is fresh again"
        case .ruleStale(let rule, let age, let newly, let total):
            let shown = newly.prefix(5).joined(separator: ", ") + (newly.count > 5 ? ", …" : "")
            return "the data behind rule \(rule) is older than max_sample_age \(age.map(format) ?? "?") for \(newly.count) more server"
                + "\(newly.count == 1 ? "" : "s") (\(shown)), \(total) in all: their verdicts are unknown, nothing is done on them"
        case .stormStarted(let scope, let troubled, let total, let threshold):
            return "storm: \(troubled) of \(total) servers of \(scope == "*" ? "all pools" : "pool \(scope)") are unhealthy or unknown "
                + "(over \(percent(threshold))); destructive actions frozen"
        case .stormOver(let seconds, let cooldown):
            return "storm over after \(seconds)s; destructive actions resume after a cooldown of \(format(cooldown))"
        case .stormOverWithoutCooldown(let seconds): return "storm over after \(seconds)s; data was missing, not unhealthy: no cooldown"
        case .operatorPaused(let paused): return "\(paused ? "paused" : "resumed") by an operator"
        case .stateUnsaved(let detail):
            return "the state could not be saved, so nothing was done this pass (intent is saved before action): \(detail)"
        case .stateUnreadable: return "the saved state could not be read, so nothing was done this pass"
        case .leaderTookOver(let epoch, let holder, let incidents):
            return "\(holder) leads (epoch \(epoch)): took over the shared state with \(incidents) open incident\(incidents == 1 ? "" : "s")"
        case .leaderStepDown(let holder):
            return "stopped leading" + (holder.map { ": \($0) leads now" } ?? ": nobody leads as far as this replica can see")
                + "; nothing is done here"
        }
    }
}
