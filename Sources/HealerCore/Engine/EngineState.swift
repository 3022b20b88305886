#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Everything the engine remembers between passes that cannot be re-derived from the world.
///
/// `Codable` and versioned: the durable store writes it, and a newer Healer must read an older file.
public struct EngineState: Sendable, Equatable, Codable {
    /// The format version this build writes. Fields added without a new version (``rules``) are optional to read,
    /// and an older Healer ignores them: a rollback keeps working. Format 2 writes each incident's phase with what
    /// only that phase has (``Incident/Stage``); format 1 files are read and migrated (see ``Incident``'s decoding).
    public static let currentVersion = 2

    /// The format version of this value.
    public var version: Int
    /// Open incidents.
    public var incidents: [IncidentKey: Incident]
    /// The global action rate limiter (enforced actions).
    public var rateLimiter: TokenBucket
    /// A separate bucket for dry-run actions, so that simulating never starves real actions.
    public var dryRunRateLimiter: TokenBucket
    /// Storm state per pool, and `*` for all pools together.
    public var storms: [String: StormState]
    /// When each server last had a destructive action (per-target cooldown).
    public var lastActionAt: [TargetID: Date]
    /// Remedy attempts per rule and target, for budgets.
    public var attempts: [IncidentKey: [Date]]
    /// Verdict history per rule and target, for flap detection.
    public var flaps: [IncidentKey: FlapHistory]
    /// Pause switches.
    public var pause: PauseState
    /// Adaptive weight per server, as a share of its configured weight (weight rules).
    public var adaptiveWeights: [TargetID: Double]
    /// Elastic capacity per pool (scale rules).
    public var scale: [String: ScaleState]
    /// What was last recorded as wrong with each rule (failing, or stale data), to record each change once.
    public var rules: [String: RuleCondition]

    /// An empty state.
    public init(maxActionsPerMinute: Int = 6) {
        version = Self.currentVersion
        incidents = [:]
        rateLimiter = TokenBucket(capacity: maxActionsPerMinute)
        dryRunRateLimiter = TokenBucket(capacity: maxActionsPerMinute)
        storms = [:]
        lastActionAt = [:]
        attempts = [:]
        flaps = [:]
        pause = PauseState()
        adaptiveWeights = [:]
        scale = [:]
        rules = [:]
    }

    private enum CodingKeys: String, CodingKey {
        case version, incidents, rateLimiter, dryRunRateLimiter, storms, lastActionAt, attempts, flaps, pause, adaptiveWeights, scale, rules
    }

    /// Reads a state of any format up to ``currentVersion`` (fields added since may be missing).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Whatever format it was read from, it is this build's format in memory, and is saved as such.
        _ = try container.decode(Int.self, forKey: .version)
        version = Self.currentVersion
        incidents = try container.decode([IncidentKey: Incident].self, forKey: .incidents)
        rateLimiter = try container.decode(TokenBucket.self, forKey: .rateLimiter)
        dryRunRateLimiter = try container.decode(TokenBucket.self, forKey: .dryRunRateLimiter)
        storms = try container.decode([String: StormState].self, forKey: .storms)
        lastActionAt = try container.decode([TargetID: Date].self, forKey: .lastActionAt)
        attempts = try container.decode([IncidentKey: [Date]].self, forKey: .attempts)
        flaps = try container.decode([IncidentKey: FlapHistory].self, forKey: .flaps)
        pause = try container.decode(PauseState.self, forKey: .pause)
        adaptiveWeights = try container.decode([TargetID: Double].self, forKey: .adaptiveWeights)
        scale = try container.decode([String: ScaleState].self, forKey: .scale)
        rules = try container.decodeIfPresent([String: RuleCondition].self, forKey: .rules) ?? [:]
    }
}

/// What is wrong with a rule, as last recorded.
public struct RuleCondition: Sendable, Equatable, Codable {
    /// Why its query failed, when it did: a ``RuleFailure/Reason`` raw value (text, so that a reason added later
    /// does not make the state unreadable to an older Healer).
    public var failure: String?
    /// The servers whose data behind the rule is stale, sorted.
    public var staleServers: [String]

    /// A condition.
    public init(failure: String? = nil, staleServers: [String] = []) {
        self.failure = failure
        self.staleServers = staleServers
    }

    /// Nothing wrong.
    public var isHealthy: Bool { failure == nil && staleServers.isEmpty }
}

/// A pool's spares: which are in rotation, and how long utilisation has been past a threshold.
public struct ScaleState: Sendable, Equatable, Codable {
    /// Spares Healer brought into rotation, oldest first.
    public var activeSpares: [String]
    /// Spares Healer took out again (kept drained).
    public var retiredSpares: [String]
    /// Since when utilisation has been above `out_above`.
    public var hotSince: Date?
    /// Since when utilisation has been below `in_below`.
    public var coolSince: Date?
    /// The last scale action.
    public var lastActionAt: Date?
    /// The gate holding back the move that is due, to record each hold once.
    public var heldBy: Gate?

    /// No spare in use.
    public init() {
        activeSpares = []
        retiredSpares = []
    }
}

/// Whether a pool (or everything) is frozen because too much of it is unhealthy or unknown.
public struct StormState: Sendable, Equatable, Codable {
    /// Since when the storm has been going on; `nil` when there is none.
    public var activeSince: Date?
    /// After a storm: no destructive action before this time.
    public var cooldownUntil: Date?
    /// Whether, during the current storm, unhealthy verdicts alone crossed the threshold. A storm of
    /// missing data only (Healer was blind, e.g. at start-up) needs no cooldown once data is back: nothing
    /// was acted on while blind, and incident timers were frozen.
    public var sawUnhealthy: Bool

    /// No storm.
    public init(activeSince: Date? = nil, cooldownUntil: Date? = nil, sawUnhealthy: Bool = false) {
        self.activeSince = activeSince
        self.cooldownUntil = cooldownUntil
        self.sawUnhealthy = sawUnhealthy
    }

    /// Whether destructive actions are frozen at `now`.
    public func isFreezing(at now: Date) -> Bool {
        activeSince != nil || (cooldownUntil.map { now < $0 } ?? false)
    }
}

/// The recent unhealthy/healthy changes of one rule and target.
public struct FlapHistory: Sendable, Equatable, Codable {
    /// The last definite reading: true for unhealthy, false for healthy.
    public var lastUnhealthy: Bool?
    /// When it changed, newest last, pruned to the flap window.
    public var transitions: [Date]

    /// No history.
    public init() {
        transitions = []
    }
}

/// Pause switches (set by the admin API).
public struct PauseState: Sendable, Equatable, Codable {
    /// Everything is paused.
    public var global: Bool
    /// These pools are paused.
    public var pools: Set<String>

    /// Nothing paused.
    public init(global: Bool = false, pools: Set<String> = []) {
        self.global = global
        self.pools = pools
    }

    /// Whether `pool` is paused.
    public func isPaused(_ pool: String) -> Bool { global || pools.contains(pool) }
}
