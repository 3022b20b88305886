#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The life of one unhealthy (rule, target): pending → firing → remedy steps → recovering → closed, or quarantined.
///
/// What only one phase has lives in that phase's ``Stage`` case, so that a pending incident with a step in force,
/// or a firing one with recovery stages, cannot be written.
public struct Incident: Sendable, Equatable {
    /// Where the incident is, as a name.
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

    /// Where the incident is, with what only that phase has.
    public enum Stage: Sendable, Equatable {
        /// Unhealthy, not for `for` yet.
        case pending
        /// Fired: remedies applied and verified step by step.
        case firing(Remedy)
        /// Giving capacity back; the remedy stays known, since a relapse re-applies its step.
        case recovering(Remedy, Recovery)
        /// Taken out, waiting for a human or a long healthy streak.
        case quarantined(Remedy)
    }

    /// The ladder of a fired incident: what is in force and what is due.
    public struct Remedy: Sendable, Equatable, Codable {
        /// When the incident fired.
        public var firedAt: Date
        /// The last ladder step applied (its effects are in force), if any.
        public var appliedStep: Int?
        /// When ``appliedStep`` was applied: the start of its verification window (`nil` after it failed).
        public var stepAppliedAt: Date?
        /// A step that is due but held back by a gate.
        public var wantedStep: Int?
        /// Whether a restart is waiting for the drained server's sessions to end (recorded once).
        public var waitingForSessions = false

        /// A remedy fired at `firedAt`, with step `wantedStep` due.
        public init(firedAt: Date, wantedStep: Int? = nil) {
            self.firedAt = firedAt
            self.wantedStep = wantedStep
        }
    }

    /// Giving capacity back: the states still to go through, and the one in force.
    public struct Recovery: Sendable, Equatable, Codable {
        /// The states still to go through, first next.
        public var stages: [DesiredServerState]
        /// The state now in force.
        public var state: DesiredServerState?
        /// When ``state`` was applied.
        public var stateAt: Date?

        /// A recovery with `stages` to go, `state` in force since `stateAt`.
        public init(stages: [DesiredServerState], state: DesiredServerState?, stateAt: Date?) {
            self.stages = stages
            self.state = state
            self.stateAt = stateAt
        }
    }

    /// Which rule and target.
    public var key: IncidentKey
    /// Where it is.
    public var stage: Stage
    /// When the target was first seen unhealthy.
    public var openedAt: Date
    /// Since when the target has been continuously healthy (for `clear_for` and quarantine release).
    public var healthySince: Date?
    /// Since when data has been unknown: timers are frozen and shifted when data returns.
    public var frozenSince: Date?
    /// The gate that last held an action back, to record each suppression once.
    public var lastSuppression: Gate?
    /// The last value seen.
    public var lastValue: Double?
    /// Whether its rule is in dry-run mode (effects are simulated, not applied).
    public var dryRun: Bool

    /// Opens an incident in ``Stage/pending``.
    public init(key: IncidentKey, openedAt: Date, dryRun: Bool) {
        self.key = key
        self.stage = .pending
        self.openedAt = openedAt
        self.dryRun = dryRun
    }

    /// The phase's name.
    public var phase: Phase {
        switch stage {
        case .pending: .pending
        case .firing: .firing
        case .recovering: .recovering
        case .quarantined: .quarantined
        }
    }

    /// The remedy of a fired incident; `nil` while pending.
    public var remedy: Remedy? {
        switch stage {
        case .pending: nil
        case .firing(let remedy), .recovering(let remedy, _), .quarantined(let remedy): remedy
        }
    }

    /// While recovering: the stages to go and the state in force.
    public var recovery: Recovery? {
        if case .recovering(_, let recovery) = stage { recovery } else { nil }
    }

    /// When it fired.
    public var firedAt: Date? { remedy?.firedAt }
    /// The last ladder step applied, if any.
    public var appliedStep: Int? { remedy?.appliedStep }
    /// When ``appliedStep`` was applied.
    public var stepAppliedAt: Date? { remedy?.stepAppliedAt }
    /// A step that is due but held back by a gate.
    public var wantedStep: Int? { remedy?.wantedStep }
    /// Whether a restart waits for sessions to end.
    public var waitingForSessions: Bool { remedy?.waitingForSessions ?? false }
    /// While recovering: the states still to go through, first next.
    public var recoveryStages: [DesiredServerState] { recovery?.stages ?? [] }
    /// While recovering: the state now in force.
    public var recoveryState: DesiredServerState? { recovery?.state }
    /// When ``recoveryState`` was applied.
    public var recoveryStateAt: Date? { recovery?.stateAt }

    /// Whether a remedy is in force on the target because of this incident.
    public var hasActed: Bool { appliedStep != nil }

    /// Changes the remedy of a fired incident in place (nothing while pending).
    public mutating func updateRemedy(_ change: (inout Remedy) -> Void) {
        switch stage {
        case .pending: return
        case .firing(var remedy):
            change(&remedy)
            stage = .firing(remedy)
        case .recovering(var remedy, let recovery):
            change(&remedy)
            stage = .recovering(remedy, recovery)
        case .quarantined(var remedy):
            change(&remedy)
            stage = .quarantined(remedy)
        }
    }

    /// Changes the recovery of a recovering incident in place (nothing otherwise).
    public mutating func updateRecovery(_ change: (inout Recovery) -> Void) {
        guard case .recovering(let remedy, var recovery) = stage else { return }
        change(&recovery)
        stage = .recovering(remedy, recovery)
    }
}

/// Format 2 writes the phase's name and, beside it, the remedy and the recovery as objects of their own. Format 1
/// (before the stages) wrote every field flat, whatever the phase; it is read and migrated: the fields the phase
/// has are kept, the others (never set in a format-1 file written by Healer) dropped.
extension Incident: Codable {
    private enum CodingKeys: String, CodingKey {
        case key, phase, openedAt, healthySince, frozenSince, lastSuppression, lastValue, dryRun, remedy, recovery
        // Format 1.
        case firedAt, appliedStep, stepAppliedAt, wantedStep, waitingForSessions, recoveryStages, recoveryState, recoveryStateAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(IncidentKey.self, forKey: .key)
        openedAt = try container.decode(Date.self, forKey: .openedAt)
        healthySince = try container.decodeIfPresent(Date.self, forKey: .healthySince)
        frozenSince = try container.decodeIfPresent(Date.self, forKey: .frozenSince)
        lastSuppression = try container.decodeIfPresent(Gate.self, forKey: .lastSuppression)
        lastValue = try container.decodeIfPresent(Double.self, forKey: .lastValue)
        dryRun = try container.decode(Bool.self, forKey: .dryRun)
        let phase = try container.decode(Phase.self, forKey: .phase)
        if phase == .pending {
            stage = .pending
            return
        }
        var remedy: Remedy
        var recovery: Recovery?
        if let written = try container.decodeIfPresent(Remedy.self, forKey: .remedy) {
            remedy = written
            recovery = try container.decodeIfPresent(Recovery.self, forKey: .recovery)
        } else {
            // Format 1.
            guard let firedAt = try container.decodeIfPresent(Date.self, forKey: .firedAt) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .firedAt, in: container, debugDescription: "a \(phase.rawValue) incident without firedAt")
            }
            remedy = Remedy(firedAt: firedAt, wantedStep: try container.decodeIfPresent(Int.self, forKey: .wantedStep))
            remedy.appliedStep = try container.decodeIfPresent(Int.self, forKey: .appliedStep)
            remedy.stepAppliedAt = try container.decodeIfPresent(Date.self, forKey: .stepAppliedAt)
            remedy.waitingForSessions = try container.decodeIfPresent(Bool.self, forKey: .waitingForSessions) ?? false
            recovery = Recovery(
                stages: try container.decodeIfPresent([DesiredServerState].self, forKey: .recoveryStages) ?? [],
                state: try container.decodeIfPresent(DesiredServerState.self, forKey: .recoveryState),
                stateAt: try container.decodeIfPresent(Date.self, forKey: .recoveryStateAt))
        }
        switch phase {
        case .pending: stage = .pending
        case .firing: stage = .firing(remedy)
        case .recovering: stage = .recovering(remedy, recovery ?? Recovery(stages: [], state: nil, stateAt: nil))
        case .quarantined: stage = .quarantined(remedy)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(phase, forKey: .phase)
        try container.encode(openedAt, forKey: .openedAt)
        try container.encodeIfPresent(healthySince, forKey: .healthySince)
        try container.encodeIfPresent(frozenSince, forKey: .frozenSince)
        try container.encodeIfPresent(lastSuppression, forKey: .lastSuppression)
        try container.encodeIfPresent(lastValue, forKey: .lastValue)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encodeIfPresent(remedy, forKey: .remedy)
        try container.encodeIfPresent(recovery, forKey: .recovery)
    }
}
