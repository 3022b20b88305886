public import HealerCore
import Synchronization

/// The most recent decision records, in memory, newest last (for the API and the status views).
public final class DecisionJournal: Sendable {
    private let records = Mutex<[DecisionRecord]>([])
    /// How many records are kept.
    public let capacity: Int

    /// Creates a journal keeping the last `capacity` records.
    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// Adds records.
    public func append(_ new: [DecisionRecord]) {
        guard !new.isEmpty else { return }
        records.withLock { records in
            records.append(contentsOf: new)
            if records.count > capacity { records.removeFirst(records.count - capacity) }
        }
    }

    /// The records matching the filters, newest last, at most `limit`.
    public func records(pool: String? = nil, server: String? = nil, limit: Int = .max) -> [DecisionRecord] {
        records.withLock { records in
            Array(records.filter { (pool == nil || $0.pool == pool) && (server == nil || $0.server == server) }.suffix(limit))
        }
    }
}
