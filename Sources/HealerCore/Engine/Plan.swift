/// What one pass decided to do: actions, and the balancer state to converge to.
public struct Plan: Sendable, Equatable {
    /// Actions to execute (or, when `dryRun`, to record), in order.
    public var actions: [PlannedAction]
    /// The state every server Healer manages must have in the balancer (enforced incidents only).
    public var desired: [TargetID: DesiredServerState]
    /// The same including dry-run incidents: what the balancer would look like.
    public var simulated: [TargetID: DesiredServerState]

    /// An empty plan.
    public init(actions: [PlannedAction] = [], desired: [TargetID: DesiredServerState] = [:], simulated: [TargetID: DesiredServerState] = [:]) {
        self.actions = actions
        self.desired = desired
        self.simulated = simulated
    }
}

/// One action the engine decided on.
public struct PlannedAction: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What to do.
    public enum Kind: Sendable, Equatable, Codable {
        /// Set the server's weight to this share of its configured weight.
        case setWeight(percent: Int)
        /// Set the server's admin state; `waitSessions` bounds the wait for sessions to end after a drain.
        case setState(AdminState, waitSessions: Duration?)
        /// Run an actuator on the server (a restart).
        case run(actuator: String)
        /// Tell an actuator the server is quarantined.
        case notify(actuator: String)

        /// The name for records and metrics.
        public var name: String {
            switch self {
            case .setWeight: "set_weight"
            case .setState(let state, _): state == .ready ? "ready" : state.rawValue
            case .run: "restart"
            case .notify: "notify"
            }
        }
    }

    /// Why: the incident.
    public var key: IncidentKey
    /// What.
    public var kind: Kind
    /// The ladder step it belongs to; `nil` for giving capacity back.
    public var step: Int?
    /// Record only.
    public var dryRun: Bool

    /// Creates an action.
    public init(key: IncidentKey, kind: Kind, step: Int?, dryRun: Bool) {
        self.key = key
        self.kind = kind
        self.step = step
        self.dryRun = dryRun
    }

    public var description: String {
        var text = "\(kind.name)"
        switch kind {
        case .setWeight(let percent): text += " \(percent)%"
        case .run(let actuator), .notify(let actuator): text += " \(actuator)"
        case .setState: break
        }
        return text + " \(key.target)" + (dryRun ? " (dry-run)" : "")
    }
}
