/// Carries out planned actions. Implementations must be idempotent: the same action twice leaves the world as once.
public protocol Actuator: Sendable {
    /// Executes (or, for a dry run, records) `action`.
    func execute(_ action: PlannedAction) async -> ActionOutcome
}

/// What happened when an action was carried out.
public struct ActionOutcome: Sendable, Equatable, Codable {
    /// How it ended.
    public enum Result: String, Sendable, Codable, CaseIterable {
        /// Done: something changed.
        case success
        /// Nothing to do: the world was already so.
        case unchanged
        /// Tried and failed; trying again may work.
        case failure
        /// Refused before trying (a value that would read as an option, a shell script with placeholders): it
        /// fails the same way every time.
        case refused
        /// Recorded only.
        case dryRun = "dry_run"

        /// Whether it did not happen: failed or refused.
        public var failed: Bool { self == .failure || self == .refused }
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
