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

    /// Whether `name` may name a server learned from series: what HAProxy accepts in a name (letters, digits,
    /// `.`, `:`, `-`, `_`), not starting with `-` (it would read as an option), at most 128 characters. A label value
    /// is whatever was written into Prometheus; one that is not a server name never becomes a target (nor an
    /// argument to an actuator).
    public static func isValidServerName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("-") && name.utf8.count <= 128
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".:-_".unicodeScalars.contains($0))
            }
    }

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
