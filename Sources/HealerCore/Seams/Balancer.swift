/// A load balancer Healer reads and steers: HAProxy in production, a fake in tests.
public protocol Balancer: Sendable {
    /// Reads every pool it serves: servers, sessions, current states. Pools it cannot read are listed as unreachable.
    func observe() async -> BalancerObservation
    /// Makes the balancer match `desired` for exactly these servers, reads every write back, and says per
    /// server what came of it. Servers not in `desired` are never touched.
    func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome]
    /// Brings servers the balancer holds out of service until told otherwise into service (a new pod's readiness
    /// gate set `True`), and says per server what came of it. Called each pass while Healer leads and its state is
    /// saved, before ``apply(_:)``.
    func admitNewServers() async -> [TargetID: ActionOutcome]
    /// Shows the pass's decisions where the balancer's operators look (Kubernetes Events): the leader's, once its
    /// state is saved, dry runs left out. Never blocks, never fails the pass.
    func note(_ records: [DecisionRecord]) async
}

extension Balancer {
    /// Most balancers put new servers into service themselves.
    public func admitNewServers() async -> [TargetID: ActionOutcome] { [:] }

    /// Most balancers have nowhere to show decisions.
    public func note(_ records: [DecisionRecord]) async {}
}

/// What a balancer showed in one pass.
public struct BalancerObservation: Sendable, Equatable {
    /// Servers per pool, with their configured weights.
    public var inventory: [String: [ServerInfo]]
    /// Current sessions per server.
    public var sessions: [TargetID: Int]
    /// Each server's state now, as a share of its configured weight and an admin state.
    public var current: [TargetID: DesiredServerState]
    /// Servers whose health checks say they do not run (DOWN): they serve nothing, whatever their admin state.
    public var down: Set<TargetID> = []
    /// Pools whose balancer could not be read, with the reason.
    public var unreachable: [String: String]
    /// Whether the balancer was reloaded (new process, lower uptime) since the last observation.
    public var reloaded: Bool

    /// Creates an observation.
    public init(
        inventory: [String: [ServerInfo]] = [:], sessions: [TargetID: Int] = [:], current: [TargetID: DesiredServerState] = [:],
        unreachable: [String: String] = [:], reloaded: Bool = false
    ) {
        self.inventory = inventory
        self.sessions = sessions
        self.current = current
        self.unreachable = unreachable
        self.reloaded = reloaded
    }

    /// Combines the observations of several balancers.
    public mutating func merge(_ other: BalancerObservation) {
        inventory.merge(other.inventory) { $1 }
        sessions.merge(other.sessions) { $1 }
        current.merge(other.current) { $1 }
        down.formUnion(other.down)
        unreachable.merge(other.unreachable) { $1 }
        reloaded = reloaded || other.reloaded
    }
}
