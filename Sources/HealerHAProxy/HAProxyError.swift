public import HealerCore

/// A failed runtime API call.
public enum HAProxyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The socket could not be reached or the exchange failed.
    case unreachable(address: String, reason: String)
    /// HAProxy refused the command; the text is its own (`No such server.`).
    case rejected(command: String, message: String)
    /// A name that must not reach the wire.
    case invalidName(String)
    /// A weight outside 0–256.
    case invalidWeight(Int)
    /// An answer that does not have the expected shape.
    case unexpectedResponse(command: String, detail: String)
    /// A write was not visible when read back.
    case notApplied(target: String, expected: String, actual: String)

    /// Whether trying again later may work.
    public var isRetryable: Bool {
        switch self {
        case .unreachable, .notApplied: true
        case .rejected, .invalidName, .invalidWeight, .unexpectedResponse: false
        }
    }

    /// What it means for a change Healer made.
    public var failure: ActionOutcome.Failure {
        switch self {
        case .unreachable: .unreachable
        case .rejected, .invalidName, .invalidWeight, .unexpectedResponse, .notApplied: .notApplied
        }
    }

    public var description: String {
        switch self {
        case .unreachable(let address, let reason): "HAProxy runtime API at \(address) unreachable: \(reason)"
        case .rejected(let command, let message): "HAProxy refused `\(command)`: \(message)"
        case .invalidName(let name): "invalid HAProxy name \(name.debugDescription): only letters, digits, '-', '_', '.', ':'"
        case .invalidWeight(let weight): "weight \(weight) outside 0–256"
        case .unexpectedResponse(let command, let detail): "unexpected answer to `\(command)`: \(detail)"
        case .notApplied(let target, let expected, let actual): "\(target): wrote \(expected), read back \(actual)"
        }
    }
}
