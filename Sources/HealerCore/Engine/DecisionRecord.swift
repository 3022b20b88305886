#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A structured account of one decision: an incident transition, an action taken, or an action held back.
public struct DecisionRecord: Sendable, Equatable, Codable {
    /// What kind of decision.
    public enum Kind: String, Sendable, Codable {
        /// An incident changed phase (pending, firing, escalated, recovering, recovered, quarantined, ...).
        case transition
        /// An action was planned (executed, or recorded in dry-run).
        case action
        /// A gate held an action back.
        case suppressed
        /// A pool-wide event (storm started or ended).
        case pool
        /// A rule could not be evaluated, or the data behind it is stale for some servers, or it answers again.
        case rule
    }

    /// Where the incident is after the decision: one of its phases, or closed.
    ///
    /// Closing belongs to the record, not to ``Incident/Phase``: an incident that is closed no longer exists.
    public enum Phase: String, Sendable, Codable, CaseIterable {
        /// See ``Incident/Phase/pending``.
        case pending
        /// See ``Incident/Phase/firing``.
        case firing
        /// See ``Incident/Phase/recovering``.
        case recovering
        /// See ``Incident/Phase/quarantined``.
        case quarantined
        /// The incident ended with this decision (healthy before firing, or recovered in full).
        case closed

        /// The record's phase of an open incident.
        public init(_ phase: Incident.Phase) {
            switch phase {
            case .pending: self = .pending
            case .firing: self = .firing
            case .recovering: self = .recovering
            case .quarantined: self = .quarantined
            }
        }
    }

    /// When.
    public var time: Date
    /// What kind.
    public var kind: Kind
    /// The pool.
    public var pool: String
    /// The rule, when about an incident.
    public var rule: String?
    /// The server, when about one.
    public var server: String?
    /// The verdict this pass.
    public var verdict: Verdict?
    /// The value this pass.
    public var value: Double?
    /// Why the verdict is unknown, when it is.
    public var unknownReason: UnknownReason?
    /// Why the rule could not be evaluated, for ``Kind/rule`` records of a failing rule.
    public var failure: RuleFailure.Reason?
    /// The evaluation (or scrape) time of the value.
    public var sampleTime: Date?
    /// The incident's phase after the decision.
    public var phase: Phase?
    /// The ladder step involved.
    public var step: Int?
    /// The action, as a sentence (`set_weight 25%`, `drain`, `restart restart-backend`, ...), rendered from
    /// ``actionType``.
    public var action: String?
    /// The action, with its parameters; `nil` in records written before it existed.
    public var actionType: DecisionAction?
    /// The gates the action passed, in order.
    public var gatesPassed: [Gate]
    /// The gate that held it back.
    public var suppressedBy: Gate?
    /// Whether it was a dry run.
    public var dryRun: Bool
    /// Why, as a code (the case of the ``DecisionReason`` the record was made with); `nil` in records written
    /// before codes existed.
    public var code: DecisionReason.Code?
    /// Why, as a sentence for people, rendered from the ``DecisionReason``.
    public var reason: String
    /// Why, with its parameters, in the pass that made the record; `nil` once read back from JSON, which keeps
    /// ``code`` and ``reason``. Not compared by `==`, so a record read back equals the one written.
    public var why: DecisionReason?

    /// Whether everything a record writes is the same (``why`` is not written).
    public static func == (lhs: DecisionRecord, rhs: DecisionRecord) -> Bool {
        lhs.time == rhs.time && lhs.kind == rhs.kind && lhs.pool == rhs.pool && lhs.rule == rhs.rule && lhs.server == rhs.server
            && lhs.verdict == rhs.verdict && lhs.value == rhs.value
            && lhs.unknownReason == rhs.unknownReason && lhs.failure == rhs.failure && lhs.sampleTime == rhs.sampleTime
            && lhs.phase == rhs.phase && lhs.step == rhs.step && lhs.action == rhs.action && lhs.actionType == rhs.actionType
            && lhs.gatesPassed == rhs.gatesPassed && lhs.suppressedBy == rhs.suppressedBy && lhs.dryRun == rhs.dryRun
            && lhs.code == rhs.code && lhs.reason == rhs.reason
    }

    private enum CodingKeys: String, CodingKey {
        case time, kind, pool, rule, server, verdict, value, unknownReason, failure, sampleTime, phase, step, action, actionType
        case gatesPassed, suppressedBy, dryRun, code, reason
    }

    /// Creates a record.
    public init(
        time: Date, kind: Kind, pool: String, rule: String? = nil, server: String? = nil, verdict: Verdict? = nil, value: Double? = nil,
        unknownReason: UnknownReason? = nil, failure: RuleFailure.Reason? = nil, sampleTime: Date? = nil, phase: Phase? = nil, step: Int? = nil,
        action: DecisionAction? = nil, gatesPassed: [Gate] = [], suppressedBy: Gate? = nil, dryRun: Bool = false, because reason: DecisionReason
    ) {
        self.time = time
        self.kind = kind
        self.pool = pool
        self.rule = rule
        self.server = server
        self.verdict = verdict
        self.value = value
        self.unknownReason = unknownReason
        self.failure = failure
        self.sampleTime = sampleTime
        self.phase = phase
        self.step = step
        self.action = action?.description
        self.actionType = action
        self.gatesPassed = gatesPassed
        self.suppressedBy = suppressedBy
        self.dryRun = dryRun
        self.code = reason.code
        self.reason = reason.sentence
        self.why = reason
    }
}
