/// Rules of one file section, all about one pool.
public struct RuleGroup: Sendable, Equatable {
    /// The group's name.
    public var name: String
    /// The pool its rules judge.
    public var pool: String
    /// Recovery rules.
    public var rules: [RecoveryRule]
    /// Adaptive weight rules (applied by the balancer driver).
    public var weights: [WeightRule]
    /// Elastic capacity rules.
    public var scale: [ScaleRule]
    /// Where it was defined.
    public var source: SourceLocation

    /// Creates a group.
    public init(
        name: String, pool: String, rules: [RecoveryRule] = [], weights: [WeightRule] = [], scale: [ScaleRule] = [],
        source: SourceLocation = SourceLocation(file: "<memory>")
    ) {
        self.name = name
        self.pool = pool
        self.rules = rules
        self.weights = weights
        self.scale = scale
        self.source = source
    }
}

/// What to conclude when a target has no series in a rule's answer.
public enum NoDataPolicy: String, Sendable, Codable, CaseIterable {
    /// Unknown: freeze, act on nothing (the default).
    case unknown
    /// Treat as healthy (for rules whose series exist only while something is wrong).
    case healthy
    /// Treat as unhealthy (for rules whose series vanish when the server dies).
    case unhealthy
}

/// PromQL and thresholds that judge each target of a pool, and the remedies to apply, in order.
public struct RecoveryRule: Sendable, Equatable {
    /// The rule's name, unique across all rule files (alerts refer to it).
    public var name: String
    /// The pool it judges.
    public var pool: String
    /// The PromQL expression; one series per server.
    public var expression: String
    /// A value matching this is unhealthy.
    public var unhealthy: Threshold
    /// A value matching this is healthy; values in neither are "no change" (hysteresis).
    public var healthy: Threshold
    /// How long a target must stay unhealthy before the incident fires.
    public var pendingFor: Duration
    /// How long a target must stay healthy before remedies are undone.
    public var clearFor: Duration
    /// What a missing series means.
    public var noData: NoDataPolicy
    /// An answer, or data behind it, older than this is unknown; `nil` uses the global setting.
    public var maxSampleAge: Duration?
    /// How the age of the data behind the rule is learned.
    public var freshness: Freshness
    /// Record only; never act.
    public var dryRun: Bool
    /// Time between weight steps when giving capacity back.
    public var rampStep: Duration
    /// The remedies, mildest first.
    public var ladder: [LadderStep]
    /// At most this many remedy steps per target in ``Budget/window``; then quarantine.
    public var budget: Budget
    /// Where it was defined.
    public var source: SourceLocation

    /// Creates a rule.
    public init(
        name: String, pool: String, expression: String, unhealthy: Threshold, healthy: Threshold, pendingFor: Duration = .zero,
        clearFor: Duration = .seconds(30), noData: NoDataPolicy = .unknown, maxSampleAge: Duration? = nil, freshness: Freshness = .derived,
        dryRun: Bool = false, rampStep: Duration = .seconds(10), ladder: [LadderStep], budget: Budget = Budget(),
        source: SourceLocation = SourceLocation(file: "<memory>")
    ) {
        self.name = name
        self.pool = pool
        self.expression = expression
        self.unhealthy = unhealthy
        self.healthy = healthy
        self.pendingFor = pendingFor
        self.clearFor = clearFor
        self.noData = noData
        self.maxSampleAge = maxSampleAge
        self.freshness = freshness
        self.dryRun = dryRun
        self.rampStep = rampStep
        self.ladder = ladder
        self.budget = budget
        self.source = source
    }

    /// The lowest weight any step sets, where giving capacity back starts (25 % when no step sets one).
    public var rampStartPercent: Int {
        ladder.compactMap { if case .setWeight(let percent) = $0.action { percent } else { nil } }.min() ?? 25
    }
}

/// Remedy attempts allowed per target and rule.
public struct Budget: Sendable, Equatable, Codable {
    /// Attempts per window.
    public var maxAttempts: Int
    /// The window.
    public var window: Duration

    /// Creates a budget (default 3 per hour).
    public init(maxAttempts: Int = 3, window: Duration = .seconds(3600)) {
        self.maxAttempts = maxAttempts
        self.window = window
    }
}

/// One rung of a ladder: an action and how long to wait before judging whether it worked.
public struct LadderStep: Sendable, Equatable {
    /// What a step does.
    public enum Action: Sendable, Equatable, Codable {
        /// Lower the server's weight to this share of its configured weight.
        case setWeight(percent: Int)
        /// Stop sending new sessions; wait up to `waitSessions` for current ones to end before a restart.
        case drain(waitSessions: Duration)
        /// Run an actuator (restart the server).
        case restart(actuator: String)
        /// Take the server out and wait for a human (or a long healthy streak); notify an actuator.
        case quarantine(notify: String?, releaseAfter: Duration?)

        /// The name used in records and metrics: `set_weight`, `drain`, `restart`, `quarantine`.
        public var name: String { DecisionAction(self).name }
    }

    /// The action.
    public var action: Action
    /// The verification window; ignored for quarantine.
    public var verify: Duration
    /// Where it was defined.
    public var source: SourceLocation

    /// Creates a step.
    public init(_ action: Action, verify: Duration = .seconds(30), source: SourceLocation = SourceLocation(file: "<memory>")) {
        self.action = action
        self.verify = verify
        self.source = source
    }
}

/// An adaptive-weight rule (applied by the balancer driver).
public struct WeightRule: Sendable, Equatable {
    /// How weights follow the rule's value.
    public enum Policy: String, Sendable, Equatable, CaseIterable {
        /// Weight ∝ 1 / value (latency).
        case inverse
        /// Weight ∝ 1 − value (error ratio).
        case errorPenalised = "error_penalised"
    }

    /// The rule's name.
    public var name: String
    /// The PromQL expression; one series per server.
    public var expression: String
    /// The policy.
    public var policy: Policy
    /// EWMA smoothing factor in (0, 1].
    public var smoothing: Double
    /// The largest change per pass, as a share of the configured weight.
    public var maxStep: Double
    /// The lowest weight, as a share.
    public var floor: Double
    /// The highest weight, as a share.
    public var ceiling: Double
    /// Where it was defined.
    public var source: SourceLocation

    /// Creates a rule.
    public init(
        name: String, expression: String, policy: Policy, smoothing: Double = 0.3, maxStep: Double = 0.1, floor: Double = 0.1,
        ceiling: Double = 1, source: SourceLocation = SourceLocation(file: "<memory>")
    ) {
        self.name = name
        self.expression = expression
        self.policy = policy
        self.smoothing = smoothing
        self.maxStep = maxStep
        self.floor = floor
        self.ceiling = ceiling
        self.source = source
    }
}

/// An elastic-capacity rule: brings spares in when the pool runs hot, takes them out when it cools.
public struct ScaleRule: Sendable, Equatable {
    /// The rule's name.
    public var name: String
    /// The PromQL expression: the pool's load, one value.
    public var expression: String
    /// The load one server carries at 100 %.
    public var perServerCapacity: Double
    /// Scale out above this utilisation.
    public var outAbove: Double
    /// Scale in below this utilisation.
    public var inBelow: Double
    /// How long utilisation must stay past a threshold before a spare moves.
    public var pendingFor: Duration
    /// Minimum time between two scale actions of the pool.
    public var cooldown: Duration
    /// Where it was defined.
    public var source: SourceLocation

    /// Creates a rule.
    public init(
        name: String, expression: String, perServerCapacity: Double, outAbove: Double, inBelow: Double, pendingFor: Duration = .seconds(10),
        cooldown: Duration = .seconds(30), source: SourceLocation = SourceLocation(file: "<memory>")
    ) {
        self.name = name
        self.expression = expression
        self.perServerCapacity = perServerCapacity
        self.outAbove = outAbove
        self.inBelow = inBelow
        self.pendingFor = pendingFor
        self.cooldown = cooldown
        self.source = source
    }
}
