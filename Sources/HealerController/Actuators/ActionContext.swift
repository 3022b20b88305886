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

    /// The context of `action` in `configuration`.
    public init(action: PlannedAction, configuration: HealerConfiguration) {
        pool = action.key.target.pool
        server = action.key.target.server
        backend = configuration.pools[action.key.target.pool]?.backend ?? ""
        rule = action.key.rule
        self.action = action.kind.name
        step = action.step.map { $0 + 1 }
    }

    /// The values templates can use, by name.
    public var values: [String: String] { ["pool": pool, "server": server, "backend": backend, "rule": rule, "action": action] }

    /// `text` with `{{ .pool }}`, `{{ .server }}`, `{{ .backend }}`, `{{ .rule }}` and `{{ .action }}` filled in, in one
    /// pass (``ExecTemplate/render(_:values:)``).
    public func render(_ text: String) -> String {
        ExecTemplate.render(text, values: values)
    }
}
