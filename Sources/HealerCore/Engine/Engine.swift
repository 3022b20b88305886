#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The pure decision core: `(state, observations, now) → (state, plan, records)`.
///
/// No clock, no I/O, no globals: the same inputs always give the same outputs. The shell queries Prometheus,
/// calls ``reconcile(state:observations:now:)``, stores the new state and carries out the plan.
public struct Engine: Sendable {
    /// The configuration (pools, rules, safety).
    public let configuration: HealerConfiguration
    /// Recovery rules by name, ladders normalised to end in quarantine.
    let rules: [String: RecoveryRule]
    /// Per pool whose rules' data age is checked: the freshness queries of its recovery rules
    /// (``RecoveryRule/freshnessQuery(keeping:maxAge:)``), asked as one. The shell runs them beside the rules' own
    /// queries and hands each rule its part of the answer as ``RuleObservation/staleInputs``.
    public let freshnessChecks: [FreshnessCheck]

    /// Creates an engine for a validated configuration.
    public init(configuration: HealerConfiguration) {
        self.configuration = configuration
        var rules: [String: RecoveryRule] = [:]
        for var rule in configuration.recoveryRules {
            if case .quarantine? = rule.ladder.last?.action {
            } else {
                rule.ladder.append(LadderStep(.quarantine(notify: nil, releaseAfter: nil), verify: .zero))
            }
            rules[rule.name] = rule
        }
        self.rules = rules
        freshnessChecks = configuration.pools.values.sorted { $0.name < $1.name }.compactMap { pool in
            var queries: [String: String] = [:]
            for rule in rules.values where rule.pool == pool.name {
                let maxAge = rule.maxSampleAge ?? configuration.reconcile.maxSampleAge
                queries[rule.name] = rule.freshnessQuery(keeping: pool.labelsRead, maxAge: maxAge)
            }
            return FreshnessCheck(pool: pool.name, queries: queries, targetLabels: pool.labelsRead)
        }
    }

    /// The result of one pass.
    public struct Outcome: Sendable {
        /// The state to keep for the next pass.
        public var state: EngineState
        /// What to do now.
        public var plan: Plan
        /// Why, decision by decision.
        public var records: [DecisionRecord]
        /// Every rule's verdict on every target.
        public var verdicts: VerdictTable
        /// Healthy capacity per pool (share of configured weight of non-spare servers), as simulated.
        public var healthyCapacity: [String: Double]
        /// How long incidents took to be detected, mitigated and recovered, for those that got there this pass.
        public var milestones: [Milestone]
    }

    /// A duration in the life of an incident.
    public struct Milestone: Sendable, Equatable {
        /// Which duration.
        public enum Kind: String, Sendable, CaseIterable {
            /// First unhealthy reading to firing.
            case detection
            /// Firing to the first remedy applied.
            case mitigation
            /// Firing to recovered (full weight, in rotation).
            case recovery
        }

        /// Which duration.
        public var kind: Kind
        /// The pool.
        public var pool: String
        /// The duration in seconds.
        public var seconds: Double

        /// Creates a milestone.
        public init(kind: Kind, pool: String, seconds: Double) {
            self.kind = kind
            self.pool = pool
            self.seconds = seconds
        }
    }

    /// Runs one pass.
    public func reconcile(state: EngineState, observations: Observations, now: Date) -> Outcome {
        var pass = Pass(engine: self, state: state, observations: observations, now: now)
        pass.run()
        return pass.outcome
    }

    /// What the balancers must show for `state`, a state already saved: the remedies in force (not in dry-run),
    /// adaptive weights and spares. A pass whose own state cannot be saved does nothing new, but still re-asserts
    /// this — it needs no new intent.
    public func desiredBalancerState(of state: EngineState) -> [TargetID: DesiredServerState] {
        Pass(engine: self, state: state, observations: Observations(), now: Date(timeIntervalSince1970: 0)).plan().desired
    }

    /// The rule named `name`, as the engine uses it (ladder ending in quarantine).
    public func rule(named name: String) -> RecoveryRule? { rules[name] }

    /// Releases `server` of `pool` from quarantine (an operator's decision): its quarantined incidents start
    /// recovering, giving capacity back gradually from the next pass on. A server still unhealthy relapses
    /// and is quarantined again. Its flap history is forgotten: the operator judged it fit to try again, so healthy
    /// readings count as healthy (it is quarantined again if it flaps anew, and the record says so).
    ///
    /// - Returns: the new state, the records, and how many incidents were released.
    public func releaseQuarantine(state: EngineState, pool: String, server: String, now: Date) -> (EngineState, [DecisionRecord], Int) {
        var pass = Pass(engine: self, state: state, observations: Observations(), now: now)
        let keys = state.incidents.values.filter { $0.key.target == TargetID(pool: pool, server: server) && $0.phase == .quarantined }.map(\.key)
        for key in keys.sorted() {
            guard let rule = rules[key.rule] else { continue }
            pass.state.flaps[key] = nil
            pass.startRecovery(key, rule: rule, because: .releasedByOperator)
        }
        return (pass.state, pass.records, keys.count)
    }
}
