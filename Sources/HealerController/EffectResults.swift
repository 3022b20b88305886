public import HealerCore

/// What came of each effect of a pass, in the plan's order.
public struct EffectResults: Sendable {
    /// Each balancer change, with the balancer's answer for its server.
    public var changes: [(change: BalancerChange, outcome: ActionOutcome)] = []
    /// Each actuator call, with the actuator's answer.
    public var calls: [(call: ActuatorCall, outcome: ActionOutcome)] = []

    /// No results yet.
    public init() {}

    /// Whether there were none.
    public var isEmpty: Bool { changes.isEmpty && calls.isEmpty }
    /// Every outcome: changes first, then calls.
    public var outcomes: [ActionOutcome] { changes.map(\.outcome) + calls.map(\.outcome) }
}
