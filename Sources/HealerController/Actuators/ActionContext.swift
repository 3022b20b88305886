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

    /// `text` with `{{ .pool }}`, `{{ .server }}`, `{{ .backend }}`, `{{ .rule }}` and `{{ .action }}` filled in.
    public func render(_ text: String) -> String {
        var result = text
        for (name, value) in [("pool", pool), ("server", server), ("backend", backend), ("rule", rule), ("action", action)] {
            for placeholder in ["{{ .\(name) }}", "{{.\(name)}}"] { result = result.replacingOccurrences(of: placeholder, with: value) }
        }
        return result
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
