#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The life of one unhealthy (rule, target): pending → firing → remedy steps → recovering → closed, or quarantined.
public struct Incident: Sendable, Equatable, Codable {
    /// Where the incident is.
    public enum Phase: String, Sendable, Codable, CaseIterable {
        /// Unhealthy, but not for `for` yet; nothing done.
        case pending
        /// Remedies are being applied and verified, step by step.
        case firing
        /// Healthy for `clear_for`: remedies are being undone, weight ramped back.
        case recovering
        /// Remedies did not work (or the budget ran out): taken out, waiting for a human or a long healthy streak.
        case quarantined
    }

    /// Which rule and target.
    public var key: IncidentKey
    /// Where it is.
    public var phase: Phase
    /// When the target was first seen unhealthy.
    public var openedAt: Date
    /// When it fired.
    public var firedAt: Date?
    /// The last ladder step applied (its effects are in force), if any.
    public var appliedStep: Int?
    /// When ``appliedStep`` was applied: the start of its verification window.
    public var stepAppliedAt: Date?
    /// A step that is due but held back by a gate.
    public var wantedStep: Int?
    /// Since when the target has been continuously healthy (for `clear_for` and quarantine release).
    public var healthySince: Date?
    /// Since when data has been unknown: timers are frozen and shifted when data returns.
    public var frozenSince: Date?
    /// While recovering: the states still to go through, first next.
    public var recoveryStages: [DesiredServerState]
    /// While recovering: the state now in force and when it was applied.
    public var recoveryState: DesiredServerState?
    /// When ``recoveryState`` was applied.
    public var recoveryStateAt: Date?
    /// The gate that last held an action back, to record each suppression once.
    public var lastSuppression: Gate?
    /// The last value seen.
    public var lastValue: Double?
    /// Whether its rule is in dry-run mode (effects are simulated, not applied).
    public var dryRun: Bool
    /// Whether a restart is waiting for the drained server's sessions to end (recorded once).
    public var waitingForSessions = false

    /// Opens an incident in ``Phase/pending``.
    public init(key: IncidentKey, openedAt: Date, dryRun: Bool) {
        self.key = key
        self.phase = .pending
        self.openedAt = openedAt
        self.recoveryStages = []
        self.dryRun = dryRun
    }

    /// Whether a remedy is in force on the target because of this incident.
    public var hasActed: Bool { appliedStep != nil }
}
