/// The judgement of one target by one rule in one pass.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// The rule's healthy condition holds (or the value is in the band and no incident is open).
    case healthy
    /// The unhealthy condition holds (or the value is in the band while an incident is open).
    case unhealthy
    /// No trustworthy data: no series, stale samples, a Prometheus error or warnings. Never acted on.
    case unknown
}

/// Why a verdict is unknown.
public enum UnknownReason: String, Sendable, Codable, CaseIterable {
    /// Prometheus failed the query or could not be reached: Healer may be partly blind.
    case prometheusError = "prometheus_error"
    /// The rule's own expression is wrong (``RuleFailure/isRuleFault``): only its verdicts are lost.
    case ruleError = "rule_error"
    /// Prometheus answered with warnings (partial data).
    case warnings
    /// The target has no series and the rule's `no_data` is `unknown`.
    case noData = "no_data"
    /// The answer, or the newest sample behind it, is older than the rule's `max_sample_age`.
    case stale
    /// The value is NaN.
    case notANumber = "nan"
    /// Several series name the same server.
    case duplicateSeries = "duplicate_series"
}

/// What a rule's value says about a target before history (hysteresis, `for`, `clear_for`) is applied.
public enum Reading: Sendable, Equatable {
    /// The unhealthy threshold matched.
    case unhealthy
    /// The healthy threshold matched.
    case healthy
    /// Between the thresholds: no change.
    case band
    /// Untrustworthy data.
    case unknown(UnknownReason)
}

/// The load balancer's administrative state of a server.
public enum AdminState: String, Sendable, Codable, CaseIterable, Comparable {
    /// In rotation.
    case ready
    /// No new sessions; current ones finish.
    case drain
    /// Out of rotation.
    case maint

    /// How much it restricts traffic: ready < drain < maint.
    public static func < (lhs: AdminState, rhs: AdminState) -> Bool {
        let order: [AdminState] = [.ready, .drain, .maint]
        return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
    }
}

/// What Healer wants a managed server to be: a share of its configured weight and an admin state.
public struct DesiredServerState: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Weight as a percentage (0–100) of the server's configured weight.
    public var weightPercent: Int
    /// Admin state.
    public var admin: AdminState

    /// Creates a desired state.
    public init(weightPercent: Int = 100, admin: AdminState = .ready) {
        self.weightPercent = weightPercent
        self.admin = admin
    }

    /// Full weight, ready: what a server without remedies has.
    public static let normal = DesiredServerState()

    /// The more restrictive of two states (lower weight, stricter admin state).
    public func combined(with other: DesiredServerState) -> DesiredServerState {
        DesiredServerState(weightPercent: min(weightPercent, other.weightPercent), admin: max(admin, other.admin))
    }

    /// The share of configured weight it lets through: 0 unless ready.
    public var effectiveShare: Double { admin == .ready ? Double(weightPercent) / 100 : 0 }

    /// `ready@50%`
    public var description: String { "\(admin.rawValue)@\(weightPercent)%" }
}
