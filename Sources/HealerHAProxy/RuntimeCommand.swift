public import HealerCore

/// A runtime API command, rendered to its wire text only after its names are validated.
public enum RuntimeCommand: Sendable, Equatable {
    /// `show servers state [backend]`.
    case showServersState(backend: String?)
    /// `show stat [backend 4 -1]`: server rows of one backend, or everything.
    case showStat(backend: String?)
    /// `show info`.
    case showInfo
    /// `set server b/s state ready|drain|maint`.
    case setState(backend: String, server: String, state: AdminState)
    /// `set weight b/s N` (absolute, 0–256).
    case setWeight(backend: String, server: String, weight: Int)
    /// `get weight b/s`.
    case getWeight(backend: String, server: String)

    /// Whether HAProxy answers it with data (as opposed to nothing on success).
    var returnsData: Bool {
        switch self {
        case .showServersState, .showStat, .showInfo, .getWeight: true
        case .setState, .setWeight: false
        }
    }

    /// The command line, without the trailing newline.
    ///
    /// - Throws: ``HAProxyError/invalidName(_:)`` for a name HAProxy would misread (spaces, `;`, `/`, line breaks…),
    ///   ``HAProxyError/invalidWeight(_:)`` outside 0–256.
    public func wireText() throws(HAProxyError) -> String {
        switch self {
        case .showServersState(let backend):
            if let backend { try Self.validate(backend) }
            return "show servers state" + (backend.map { " \($0)" } ?? "")
        case .showStat(let backend):
            if let backend {
                try Self.validate(backend)
                return "show stat \(backend) 4 -1"
            }
            return "show stat"
        case .showInfo:
            return "show info"
        case .setState(let backend, let server, let state):
            try Self.validate(backend)
            try Self.validate(server)
            return "set server \(backend)/\(server) state \(state.rawValue)"
        case .setWeight(let backend, let server, let weight):
            try Self.validate(backend)
            try Self.validate(server)
            guard (0...256).contains(weight) else { throw .invalidWeight(weight) }
            return "set weight \(backend)/\(server) \(weight)"
        case .getWeight(let backend, let server):
            try Self.validate(backend)
            try Self.validate(server)
            return "get weight \(backend)/\(server)"
        }
    }

    /// HAProxy proxy and server names: letters, digits, `-`, `_`, `.`, `:`.
    static func validate(_ name: String) throws(HAProxyError) {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.:".unicodeScalars.contains(scalar))
        }
        guard !name.isEmpty, allowed else { throw .invalidName(name) }
    }
}
