/// What one pass decided: the balancer state to converge to, and the changes and actuator calls of this pass,
/// each with the incident (or scale rule) and ladder step that asked for it.
public struct Plan: Sendable, Equatable {
    /// The state every server Healer manages must have in the balancer (enforced incidents only). The shell
    /// applies it as a diff every pass: it is the one place a balancer change travels, and re-asserts what a
    /// balancer reload undid.
    public var desired: [TargetID: DesiredServerState]
    /// The same including dry-run incidents: what the balancer would look like.
    public var simulated: [TargetID: DesiredServerState]
    /// The servers whose state changes this pass, and who asked: what ``desired`` (or, for a dry run,
    /// ``simulated``) changed, for records, metrics and the outcome of each change.
    public var changes: [BalancerChange]
    /// The actuators to run, in order, after the balancer is applied.
    public var calls: [ActuatorCall]

    /// A plan.
    public init(
        desired: [TargetID: DesiredServerState] = [:], simulated: [TargetID: DesiredServerState] = [:], changes: [BalancerChange] = [],
        calls: [ActuatorCall] = []
    ) {
        self.desired = desired
        self.simulated = simulated
        self.changes = changes
        self.calls = calls
    }

    /// Whether the pass changes nothing and calls nothing.
    public var isQuiet: Bool { changes.isEmpty && calls.isEmpty }
}

/// A server whose balancer state one decision changes this pass.
public struct BalancerChange: Sendable, Equatable {
    /// Who asked: the incident, or the scale rule and its spare.
    public var key: IncidentKey
    /// The decision it carries out (a ladder step, a stage of giving capacity back, a spare in or out).
    public var action: DecisionAction
    /// The state the decision asks for (combined with other incidents' in ``Plan/desired``).
    public var state: DesiredServerState
    /// The ladder step; `nil` for giving capacity back and for spares.
    public var step: Int?
    /// Simulated only.
    public var dryRun: Bool

    /// A change.
    public init(key: IncidentKey, action: DecisionAction, state: DesiredServerState, step: Int?, dryRun: Bool) {
        self.key = key
        self.action = action
        self.state = state
        self.step = step
        self.dryRun = dryRun
    }
}

/// An actuator to run on a server for a ladder step.
public struct ActuatorCall: Sendable, Equatable, CustomStringConvertible {
    /// Why: the incident.
    public var key: IncidentKey
    /// The step's action: ``DecisionAction/restart(actuator:)``, or ``DecisionAction/quarantine(notify:)`` for
    /// a notification.
    public var action: DecisionAction
    /// The actuator.
    public var actuator: String
    /// The ladder step.
    public var step: Int
    /// Record only.
    public var dryRun: Bool

    /// A call.
    public init(key: IncidentKey, action: DecisionAction, actuator: String, step: Int, dryRun: Bool) {
        self.key = key
        self.action = action
        self.actuator = actuator
        self.step = step
        self.dryRun = dryRun
    }

    /// What the call does, for actuators' templates: `restart` or `notify`.
    public var purpose: String {
        if case .quarantine = action { return "notify" }
        return "restart"
    }

    /// `restart restart-backend web/s1`
    public var description: String {
        "\(purpose) \(actuator) \(key.target)" + (dryRun ? " (dry-run)" : "")
    }
}
