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

/// A rule's query result for one pass.
public struct RuleObservation: Sendable {
    /// The series, or why there are none.
    public enum Outcome: Sendable {
        /// Prometheus answered.
        case series([SeriesSample])
        /// Prometheus failed; the text says why.
        case failed(String)
    }

    /// The outcome.
    public var outcome: Outcome
    /// Warnings Prometheus sent with its answer.
    public var warnings: [String]
    /// The evaluation time of the answer.
    public var evaluatedAt: Date?

    /// Creates an observation.
    public init(outcome: Outcome, warnings: [String] = [], evaluatedAt: Date? = nil) {
        self.outcome = outcome
        self.warnings = warnings
        self.evaluatedAt = evaluatedAt
    }

    /// An answer with these series.
    public static func series(_ samples: [SeriesSample], warnings: [String] = [], at time: Date? = nil) -> RuleObservation {
        RuleObservation(outcome: .series(samples), warnings: warnings, evaluatedAt: time)
    }

    /// A failed query.
    public static func failed(_ reason: String) -> RuleObservation {
        RuleObservation(outcome: .failed(reason))
    }
}

/// One series of a rule's answer.
public struct SeriesSample: Sendable, Equatable {
    /// Its labels.
    public var labels: Labels
    /// Its value.
    public var value: Double
    /// When the underlying sample was scraped, when known.
    public var sampledAt: Date?

    /// Creates a sample.
    public init(labels: Labels, value: Double, sampledAt: Date? = nil) {
        self.labels = labels
        self.value = value
        self.sampledAt = sampledAt
    }
}

/// A server as the balancer (or the configuration) knows it.
public struct ServerInfo: Sendable, Equatable, Codable {
    /// Its name.
    public var server: String
    /// Its configured weight (the 100 % of weight percentages).
    public var configuredWeight: Int
    /// Whether it is a spare (outside the capacity the floor protects).
    public var isSpare: Bool

    /// Creates a server.
    public init(server: String, configuredWeight: Int = 100, isSpare: Bool = false) {
        self.server = server
        self.configuredWeight = configuredWeight
        self.isSpare = isSpare
    }
}
