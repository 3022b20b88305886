/// One server of one pool: what a verdict, an incident and an action are about.
public struct TargetID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The pool's name.
    public var pool: String
    /// The server's name in the balancer backend.
    public var server: String

    /// Creates an identifier.
    public init(pool: String, server: String) {
        self.pool = pool
        self.server = server
    }

    /// `pool/server`
    public var description: String { "\(pool)/\(server)" }

    public static func < (lhs: TargetID, rhs: TargetID) -> Bool {
        (lhs.pool, lhs.server) < (rhs.pool, rhs.server)
    }
}

/// One recovery rule judging one target: the key of an incident.
public struct IncidentKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The recovery rule's name.
    public var rule: String
    /// The target.
    public var target: TargetID

    /// Creates a key.
    public init(rule: String, target: TargetID) {
        self.rule = rule
        self.target = target
    }

    /// `rule@pool/server`
    public var description: String { "\(rule)@\(target)" }

    public static func < (lhs: IncidentKey, rhs: IncidentKey) -> Bool {
        (lhs.target, lhs.rule) < (rhs.target, rhs.rule)
    }
}
