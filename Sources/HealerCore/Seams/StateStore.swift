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

/// Decides whether this replica may act.
public protocol LeaderElector: Sendable {
    /// Whether this replica is the leader now.
    func isLeader() async -> Bool
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
