/// Who leads the replicas of one Healer (`ha:`), as one replica sees it: for status views.
public struct Leadership: Sendable, Codable, Equatable {
    /// Whether this replica led at its last pass (and so is the one that acts).
    public var leading: Bool
    /// The Lease's holder as last read: the leader's identity, this replica's when it leads; `nil` when nobody holds it.
    public var holder: String?

    /// A view of the leadership.
    public init(leading: Bool, holder: String?) {
        self.leading = leading
        self.holder = holder
    }
}
