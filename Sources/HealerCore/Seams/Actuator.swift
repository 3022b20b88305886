/// Carries out planned actions. Implementations must be idempotent: the same action twice leaves the world as once.
public protocol Actuator: Sendable {
    /// Executes (or, for a dry run, records) `action`.
    func execute(_ action: PlannedAction) async -> ActionOutcome
}

/// What happened when an action was carried out.
public struct ActionOutcome: Sendable, Equatable, Codable {
    /// How it ended.
    public enum Result: String, Sendable, Codable, CaseIterable {
        /// Done.
        case success
        /// Tried and failed.
        case failure
        /// Recorded only.
        case dryRun = "dry_run"
    }

    /// How it ended.
    public var result: Result
    /// Exit code, output or error text, bounded.
    public var detail: String

    /// Creates an outcome.
    public init(_ result: Result, detail: String = "") {
        self.result = result
        self.detail = detail
    }
}
