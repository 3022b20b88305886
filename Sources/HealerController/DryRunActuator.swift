public import HealerCore

/// Records what it would do and does nothing: for dry runs, and for actions no real actuator handles yet.
public struct DryRunActuator: Actuator {
    /// Creates the actuator.
    public init() {}

    public func execute(_ call: ActuatorCall) async -> ActionOutcome {
        ActionOutcome(.dryRun, detail: "would \(call)")
    }
}
