public import Foundation
public import HealerCore

/// Sends each call to the actuator its ladder step names (exec or webhook).
public struct ActuatorRouter: Actuator {
    private enum Kind: Sendable {
        case exec(ExecActuator)
        case webhook(WebhookActuator)
        case pod(PodActuator)
    }

    private let actuators: [String: Kind]
    private let configuration: HealerConfiguration
    private let now: @Sendable () -> Date

    /// Builds the actuators of `configuration`; pod actuators act through the clusters of `kubernetes`.
    public init(configuration: HealerConfiguration, kubernetes: KubernetesClusters? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        var actuators: [String: Kind] = [:]
        for (name, settings) in configuration.actuators {
            switch settings {
            case .exec(let command, let timeout, let allowLeadingDash):
                actuators[name] = .exec(ExecActuator(command: command, timeout: timeout, allowLeadingDash: allowLeadingDash))
            case .webhook(let url, let timeout, let headers):
                actuators[name] = .webhook(WebhookActuator(url: url, timeout: timeout, headers: headers))
            case .kubernetes(let action, let gracePeriod):
                guard let kubernetes else { continue }  // without clusters, "no actuator named …"
                actuators[name] = .pod(PodActuator(action: action, gracePeriod: gracePeriod, clusters: kubernetes))
            }
        }
        self.actuators = actuators
        self.configuration = configuration
        self.now = now
    }

    public func execute(_ call: ActuatorCall) async -> ActionOutcome {
        guard let actuator = actuators[call.actuator] else { return .failed(.noActuator, detail: "no actuator named \(call.actuator)") }
        let context = ActionContext(call: call, configuration: configuration)
        switch actuator {
        case .exec(let exec): return await exec.run(context)
        case .webhook(let webhook): return await webhook.send(context, at: now())
        case .pod(let pod): return await pod.run(call)
        }
    }
}
