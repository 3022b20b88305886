/// What a decision does (or would do, or was held back from doing), with its parameters: the truth behind a
/// record's `action` sentence, its metrics label and its actuator calls.
public enum DecisionAction: Sendable, Hashable, CustomStringConvertible {
    /// Ladder step: lower the server's weight to this share of its configured weight.
    case setWeight(percent: Int)
    /// Ladder step: stop sending the server new sessions.
    case drain
    /// Ladder step: run this actuator on the server.
    case restart(actuator: String)
    /// Ladder step: take the server out and leave it to a human, telling this actuator if one is named.
    case quarantine(notify: String?)
    /// One stage of giving an incident's capacity back: the state the server returns to.
    case restore(DesiredServerState)
    /// A spare enters rotation.
    case scaleOut
    /// A spare leaves rotation.
    case scaleIn
    /// An action this build does not know, named so in a record a newer Healer wrote (kept after a rollback).
    case unknown(name: String)

    /// The action a ladder step takes.
    public init(_ step: LadderStep.Action) {
        switch step {
        case .setWeight(let percent): self = .setWeight(percent: percent)
        case .drain: self = .drain
        case .restart(let actuator): self = .restart(actuator: actuator)
        case .quarantine(let notify, _): self = .quarantine(notify: notify)
        }
    }

    /// The name, for records and metrics: `set_weight`, `drain`, `restart`, `quarantine`, `restore`, `scale_out`,
    /// `scale_in`.
    public var name: String {
        switch self {
        case .setWeight: "set_weight"
        case .drain: "drain"
        case .restart: "restart"
        case .quarantine: "quarantine"
        case .restore: "restore"
        case .scaleOut: "scale_out"
        case .scaleIn: "scale_in"
        case .unknown(let name): name
        }
    }

    /// Every name a build of this version can write, for metrics made before the first action.
    public static let names = ["set_weight", "drain", "restart", "quarantine", "restore", "scale_out", "scale_in"]

    /// `set_weight 25%`, `drain`, `restart restart-backend`, `quarantine (notify pager)`, `restore ready@50%`,
    /// `scale out`, `scale in`.
    public var description: String {
        switch self {
        case .setWeight(let percent): "set_weight \(percent)%"
        case .drain: "drain"
        case .restart(let actuator): "restart \(actuator)"
        case .quarantine(let notify): "quarantine" + (notify.map { " (notify \($0))" } ?? "")
        case .restore(let state): "restore \(state)"
        case .scaleOut: "scale out"
        case .scaleIn: "scale in"
        case .unknown(let name): name
        }
    }
}

extension DecisionAction: Codable {
    private enum CodingKeys: String, CodingKey {
        case name, percent, actuator, notify, state
    }

    /// `{"name": "set_weight", "percent": 25}`, `{"name": "restart", "actuator": "…"}`,
    /// `{"name": "restore", "state": {"admin": "ready", "weightPercent": 50}}`. A name this build does not know,
    /// or a known one whose parameters it cannot read (a newer Healer's), reads as ``unknown(name:)``: the record
    /// that carries it stays readable.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        let action: DecisionAction? =
            switch name {
            case "set_weight": (try? container.decode(Int.self, forKey: .percent)).map { .setWeight(percent: $0) }
            case "drain": .drain
            case "restart": (try? container.decode(String.self, forKey: .actuator)).map { .restart(actuator: $0) }
            case "quarantine":
                !container.contains(.notify)
                    ? .quarantine(notify: nil) : (try? container.decode(String.self, forKey: .notify)).map { .quarantine(notify: $0) }
            case "restore": (try? container.decode(DesiredServerState.self, forKey: .state)).map { .restore($0) }
            case "scale_out": .scaleOut
            case "scale_in": .scaleIn
            default: nil
            }
        self = action ?? .unknown(name: name)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        switch self {
        case .setWeight(let percent): try container.encode(percent, forKey: .percent)
        case .restart(let actuator): try container.encode(actuator, forKey: .actuator)
        case .quarantine(let notify): try container.encodeIfPresent(notify, forKey: .notify)
        case .restore(let state): try container.encode(state, forKey: .state)
        case .drain, .scaleOut, .scaleIn, .unknown: break
        }
    }
}
