/// Keeps the engine's state, and the decisions that led to it, across restarts.
public protocol StateStore: Sendable {
    /// The saved state, or `nil` when there is none yet.
    func load() async throws -> EngineState?
    /// Saves `state`, replacing what was saved.
    func save(_ state: EngineState) async throws
    /// Saves `state` and adds `records` to the saved decisions, both or neither.
    func save(_ state: EngineState, appending records: [DecisionRecord]) async throws
    /// The most recent saved decisions, oldest first, at most `limit`.
    func recentRecords(limit: Int) async throws -> [DecisionRecord]
}

extension StateStore {
    /// A store that keeps no decisions saves the state alone.
    public func save(_ state: EngineState, appending records: [DecisionRecord]) async throws {
        try await save(state)
    }

    /// A store that keeps no decisions has none.
    public func recentRecords(limit: Int) async throws -> [DecisionRecord] { [] }
}

/// A store that several replicas share (HA): only the leader writes it, and only after fencing it with its term,
/// so that the writes of a deposed leader are refused even before the new leader has written anything else.
public protocol SharedStateStore: StateStore {
    /// Marks the store as written by `term` (a write with the version just read, refused when a later term
    /// has marked it) and returns the state in force: what the new leader resumes. Every later save checks that
    /// no later term has marked the store since.
    func takeOver(_ term: LeaderTerm) async throws -> EngineState?
}

/// A leader's term: the epoch that fences its writes (the Lease's `leaseTransitions`), and who holds it.
public struct LeaderTerm: Sendable, Equatable, Codable {
    /// Grows by one at every change of holder.
    public var epoch: Int
    /// The holder's identity.
    public var holder: String
    /// Where the holder serves its API (`http://10.0.3.7:9102`), so that followers can forward alerts to it.
    public var url: String?

    /// A term.
    public init(epoch: Int, holder: String, url: String? = nil) {
        self.epoch = epoch
        self.holder = holder
        self.url = url
    }
}

/// Decides whether this replica may act.
public protocol LeaderElector: Sendable {
    /// Whether this replica is the leader now.
    func isLeader() async -> Bool
    /// The term this replica leads in, or `nil` when it does not lead (or there are no terms: a single instance).
    func term() async -> LeaderTerm?
    /// Who leads, as last seen; `nil` when nobody does or it is not known.
    var holder: String? { get }
}

extension LeaderElector {
    /// No terms.
    public func term() async -> LeaderTerm? { nil }
    /// Not known.
    public var holder: String? { nil }
}

/// A single replica: always the leader.
public struct SingleInstanceLeaderElector: LeaderElector {
    /// Creates the elector.
    public init() {}

    public func isLeader() async -> Bool { true }
}

/// An error of a ``StateStore`` that may say its file is no longer Healer's (removed or replaced while running):
/// then nothing is written to the balancers at all, not even a re-assertion — another Healer may own the path.
public protocol StateStoreFailure: Error {
    /// Whether the store's file is lost.
    var meansStateLost: Bool { get }
}
