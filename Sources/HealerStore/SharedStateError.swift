public import HealerCore
public import HealerKubernetes

/// Why the shared state (``ConfigMapStateStore``) cannot be read or written, naming its object.
public enum SharedStateError: StateStoreFailure, Sendable, CustomStringConvertible {
    /// The API server did not answer as it should.
    case unreachable(name: String, KubernetesError)
    /// A later term fenced the object (`nil`: it no longer names any term): this replica no longer leads.
    case fenced(name: String, by: LeaderTerm?)
    /// This replica has not taken the object over: only a leader that fenced it writes.
    case notFenced(name: String)
    /// The object was deleted while this replica led.
    case deleted(name: String)
    /// The state alone does not fit in a ConfigMap.
    case tooLarge(name: String, bytes: Int, limit: Int)
    /// Several writers kept coming first.
    case contended(name: String)
    /// The object holds what this version cannot read.
    case unreadable(name: String, String)

    /// Deposed or deleted: nothing may be written to the balancers, not even a re-assertion (the new leader
    /// owns them).
    public var meansStateLost: Bool {
        switch self {
        case .fenced, .deleted, .notFenced: true
        case .unreachable, .tooLarge, .contended, .unreadable: false
        }
    }

    public var description: String {
        switch self {
        case .unreachable(let name, let error): "shared state (ConfigMap \(name)): \(error)"
        case .fenced(let name, let term):
            "shared state (ConfigMap \(name)) was taken over by "
                + (term.map { "\($0.holder) (epoch \($0.epoch))" } ?? "another writer") + ": this replica no longer leads and writes nothing"
        case .notFenced(let name): "shared state (ConfigMap \(name)) is written only by the leader that took it over"
        case .deleted(let name):
            "shared state (ConfigMap \(name)) was deleted while Healer led: nothing is done until a leader takes it over again"
        case .tooLarge(let name, let bytes, let limit):
            "shared state (ConfigMap \(name)) needs \(bytes) bytes, more than a ConfigMap holds (\(limit)): too many open incidents for HA "
                + "state; run a single instance with SQLite state, or split the fleet between Healers"
        case .contended(let name): "shared state (ConfigMap \(name)) kept changing while it was taken over"
        case .unreadable(let name, let detail): "shared state (ConfigMap \(name)) cannot be read: \(detail)"
        }
    }
}
