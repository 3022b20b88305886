/// Runs the actuators ladder steps name (restart scripts, webhooks). Implementations must be idempotent: the
/// same call twice leaves the world as once.
public protocol Actuator: Sendable {
    /// Runs `call`.
    func execute(_ call: ActuatorCall) async -> ActionOutcome
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

    /// Why a change or call failed (or was refused).
    public enum Failure: String, Sendable, Codable, CaseIterable {
        /// The balancer could not be reached.
        case unreachable
        /// The balancer does not have the server.
        case noSuchServer = "no_such_server"
        /// The balancer refused the write, or the write was not there when read back.
        case notApplied = "not_applied"
        /// No balancer drives the server's pool.
        case noBalancer = "no_balancer"
        /// No actuator has the name the step gives.
        case noActuator = "no_actuator"
        /// The command could not be started.
        case cannotStart = "cannot_start"
        /// The command exited with a non-zero status.
        case exitStatus = "exit_status"
        /// The command or the request ran out of time.
        case timedOut = "timed_out"
        /// The webhook did not answer with a 2xx status.
        case httpStatus = "http_status"
        /// The webhook could not be reached or the payload sent.
        case requestFailed = "request_failed"
        /// A PodDisruptionBudget does not allow the eviction now: tried again later, never forced.
        case disruptionBudget = "disruption_budget"
        /// Leadership was lost between the decision and the write: nothing was done.
        case notLeader = "not_leader"
        /// Healer stopped while it ran.
        case cancelled
        /// The call would pass a value that reads as an option, or a shell script with placeholders.
        case unsafeInput = "unsafe_input"
    }

    /// How it ended.
    public var result: Result
    /// Why it failed, when it did.
    public var failure: Failure?
    /// Exit code, output or error text, bounded.
    public var detail: String

    /// Creates an outcome that did not fail (a failure is made with ``failed(_:detail:)``, which says why).
    public init(_ result: Result, detail: String = "") {
        assert(!result.failed, "a failed outcome without its Failure")
        self.result = result
        self.detail = detail
    }

    /// A failure: ``Result/refused`` for ``Failure/unsafeInput`` (it fails the same way every time), else
    /// ``Result/failure``.
    public static func failed(_ failure: Failure, detail: String) -> ActionOutcome {
        var outcome = ActionOutcome(.success, detail: detail)
        outcome.result = failure == .unsafeInput ? .refused : .failure
        outcome.failure = failure
        return outcome
    }
}
