public import SeriesLabels

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What the shell saw in one pass, handed to ``Engine/reconcile(state:observations:now:)``.
public struct Observations: Sendable {
    /// Whether this replica holds leadership (only the leader acts).
    public var isLeader: Bool
    /// Each recovery rule's query result, by rule name. A rule missing here counts as a Prometheus error.
    public var rules: [String: RuleObservation]
    /// Each pool's servers as the balancer reports them; pools missing here use their configured and observed servers.
    public var inventory: [String: [ServerInfo]]
    /// Current sessions per server (a drain waits for them before a restart).
    public var sessions: [TargetID: Int]
    /// Pools whose balancer cannot be seen now, with the reason: Healer changes nothing it cannot see.
    public var unreachableBalancers: [String: String]
    /// Each server's state in the balancer now (admin state, weight share), when a balancer reports it.
    public var balancerStates: [TargetID: DesiredServerState] = [:]
    /// Servers the balancer's health checks say are down.
    public var down: Set<TargetID> = []
    /// Ladder steps whose actuator failed when the last pass ran them (a restart that exited non-zero or timed
    /// out), with why: they are not in force. Balancer writes are not listed: the desired state is re-asserted
    /// every pass anyway.
    public var failedSteps: [IncidentKey: FailedStep] = [:]
    /// Firing alerts naming a rule and a target, by the alert's name: a hint to look now. An alert whose target
    /// the rule's own query confirms unhealthy fires without waiting for `for` (Alertmanager already waited);
    /// one it does not confirm is recorded and ignored.
    public var alerts: [IncidentKey: String]

    /// Creates observations.
    public init(
        isLeader: Bool = true, rules: [String: RuleObservation] = [:], inventory: [String: [ServerInfo]] = [:],
        sessions: [TargetID: Int] = [:], unreachableBalancers: [String: String] = [:], alerts: [IncidentKey: String] = [:]
    ) {
        self.isLeader = isLeader
        self.rules = rules
        self.inventory = inventory
        self.sessions = sessions
        self.unreachableBalancers = unreachableBalancers
        self.alerts = alerts
    }
}

/// A ladder step whose action failed.
public struct FailedStep: Sendable, Equatable {
    /// The step (0-based).
    public var step: Int
    /// What the actuator said.
    public var detail: String
    /// Whether the world refused it for now without anything being done (a PodDisruptionBudget refusing an
    /// eviction): it is tried again, and the attempt does not count against the remedy budget.
    public var refusedForNow: Bool

    /// Creates a failed step.
    public init(step: Int, detail: String, refusedForNow: Bool = false) {
        self.step = step
        self.detail = detail
        self.refusedForNow = refusedForNow
    }
}

/// A rule's query result for one pass.
public struct RuleObservation: Sendable {
    /// The series, or why there are none.
    public enum Outcome: Sendable {
        /// Prometheus answered.
        case series([SeriesSample])
        /// The rule could not be evaluated.
        case failed(RuleFailure)
    }

    /// The outcome.
    public var outcome: Outcome
    /// Warnings Prometheus sent with its answer.
    public var warnings: [String]
    /// The evaluation time of the answer.
    public var evaluatedAt: Date?
    /// The answer of the rule's freshness query (``RecoveryRule/freshnessQuery(keeping:maxAge:)``): a series for
    /// each server whose newest input sample is older than the rule's `max_sample_age`, valued at that sample's
    /// time in Unix seconds. `nil` when none was asked (the rule's freshness is `none`, or the source cannot say).
    public var staleInputs: [SeriesSample]?

    /// Creates an observation.
    public init(outcome: Outcome, warnings: [String] = [], evaluatedAt: Date? = nil, staleInputs: [SeriesSample]? = nil) {
        self.outcome = outcome
        self.warnings = warnings
        self.evaluatedAt = evaluatedAt
        self.staleInputs = staleInputs
    }

    /// An answer with these series.
    public static func series(_ samples: [SeriesSample], warnings: [String] = [], at time: Date? = nil) -> RuleObservation {
        RuleObservation(outcome: .series(samples), warnings: warnings, evaluatedAt: time)
    }

    /// A failed query.
    public static func failed(_ reason: RuleFailure.Reason, _ message: String) -> RuleObservation {
        RuleObservation(outcome: .failed(RuleFailure(reason, message)))
    }

    /// The failure, when the rule could not be evaluated.
    public var failure: RuleFailure? {
        if case .failed(let failure) = outcome { failure } else { nil }
    }
}

/// Why a rule could not be evaluated, and whose fault that is.
public struct RuleFailure: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What went wrong, as a code for metrics (`healer_rule_evaluation_failures_total{reason}`) and records.
    public enum Reason: String, Sendable, Codable, CaseIterable {
        /// The expression is malformed (Prometheus' error envelope with `bad_data`). A bare HTTP 400 from something
        /// in front of Prometheus is ``invalidResponse``.
        case badData = "bad_data"
        /// The expression failed while running (`execution`, HTTP 422): on this data (many-to-many matching), or
        /// on Prometheus' limits (too many samples). Not counted as the rule's own fault.
        case execution
        /// The expression returns a range vector or a string; rules need an instant vector or a scalar.
        case wrongResultType = "wrong_result_type"
        /// Prometheus ran out of time (`timeout`).
        case timeout
        /// Prometheus canceled the query (`canceled`).
        case canceled
        /// Prometheus failed internally (`internal`, HTTP 500).
        case `internal`
        /// Prometheus cannot answer now: starting, overloaded, behind a failing proxy (`unavailable`, 502–504).
        case unavailable
        /// Prometheus refused Healer's credentials (401, 403).
        case unauthorized
        /// The API endpoint does not exist: a wrong URL or path prefix (404).
        case notFound = "not_found"
        /// The answer is not a Prometheus API response.
        case invalidResponse = "invalid_response"
        /// No answer: connection refused, reset, timed out, TLS failure.
        case transport
        /// The query was not asked or not answered this pass.
        case noAnswer = "no_answer"
        /// Anything else.
        case other
    }

    /// What went wrong.
    public var reason: Reason
    /// Details for people (Prometheus' own error text).
    public var message: String

    /// Creates a failure.
    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// Whether the rule itself is at fault: Prometheus said its expression is malformed (`bad_data`), or it returns
    /// a range vector or a string.
    ///
    /// Only that rule's verdicts are lost then; Prometheus answers the other rules, so Healer is not blind, and
    /// the rule is left out of the storm and capacity-floor counts that protect the pool's other rules. Any other
    /// failure may hide what every rule would see, and counts as missing data: no answer, 5xx, `timeout`,
    /// `unavailable`, credentials, a wrong URL — and `execution`, which also covers queries that load too many
    /// samples and joins broken by series churn, both typical of an incident.
    public var isRuleFault: Bool {
        switch reason {
        case .badData, .wrongResultType: true
        case .execution, .timeout, .canceled, .internal, .unavailable, .unauthorized, .notFound, .invalidResponse, .transport, .noAnswer, .other:
            false
        }
    }

    /// `bad_data: parse error …`
    public var description: String { message.isEmpty ? reason.rawValue : "\(reason.rawValue): \(message)" }
}

/// A server as the balancer (or the configuration) knows it.
public struct ServerInfo: Sendable, Equatable, Codable {
    /// Its name.
    public var server: String
    /// Its configured weight (the 100 % of weight percentages).
    public var configuredWeight: Int
    /// Whether it is a spare (outside the capacity the floor protects).
    public var isSpare: Bool
    /// The slot its remedies' budget is counted in when that outlives the server: the owner of a Kubernetes pod
    /// whose replacements take new names (`ReplicaSet/web-7d9c`), so a workload whose replacement pods keep
    /// failing is quarantined instead of restarted forever. `nil`: the server's own.
    public var budgetSlot: String?

    /// Creates a server.
    public init(server: String, configuredWeight: Int = 100, isSpare: Bool = false, budgetSlot: String? = nil) {
        self.server = server
        self.configuredWeight = configuredWeight
        self.isSpare = isSpare
        self.budgetSlot = budgetSlot
    }
}
