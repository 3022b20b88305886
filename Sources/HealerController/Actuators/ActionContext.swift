public import HealerCore

/// The facts an actuator's templates and payloads may use about an action.
public struct ActionContext: Sendable, Equatable, Codable {
    /// The pool.
    public var pool: String
    /// The server.
    public var server: String
    /// The balancer backend.
    public var backend: String
    /// The recovery rule.
    public var rule: String
    /// The action's name (`restart`, `notify`).
    public var action: String
    /// The ladder step, 1-based.
    public var step: Int?

    /// The context of `call` in `configuration`.
    public init(call: ActuatorCall, configuration: HealerConfiguration) {
        pool = call.key.target.pool
        server = call.key.target.server
        backend = configuration.pools[call.key.target.pool]?.backend ?? ""
        rule = call.key.rule
        action = call.purpose
        step = call.step + 1
    }

    /// The values templates can use, by name.
    public var values: [String: String] { ["pool": pool, "server": server, "backend": backend, "rule": rule, "action": action] }

    /// `text` with `{{ .pool }}`, `{{ .server }}`, `{{ .backend }}`, `{{ .rule }}` and `{{ .action }}` filled in, in one
    /// pass (``ExecTemplate/render(_:values:)``).
    public func render(_ text: String) -> String {
        ExecTemplate.render(text, values: values)
    }
}
