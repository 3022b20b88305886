/// Keeps the engine's state across restarts.
public protocol StateStore: Sendable {
    /// The saved state, or `nil` when there is none yet.
    func load() async throws -> EngineState?
    /// Saves `state`, replacing what was saved.
    func save(_ state: EngineState) async throws
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
