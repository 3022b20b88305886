/// The verdict of one rule on one target in one pass, for status views and metrics.
public struct VerdictReport: Sendable, Equatable {
    /// Which rule and target.
    public var key: IncidentKey
    /// The verdict.
    public var verdict: Verdict
    /// The value, when there was one.
    public var value: Double?
    /// Why it is unknown.
    public var unknownReason: UnknownReason?
    /// The incident's phase, when one is open.
    public var phase: Incident.Phase?

    /// Creates a report.
    public init(key: IncidentKey, verdict: Verdict, value: Double? = nil, unknownReason: UnknownReason? = nil, phase: Incident.Phase? = nil) {
        self.key = key
        self.verdict = verdict
        self.value = value
        self.unknownReason = unknownReason
        self.phase = phase
    }
}

/// Every rule's verdict on every target in one pass, in a stable order (pools, then rules, then servers).
///
/// A collection of ``VerdictReport``s that shares the pass's reading columns instead of copying them: a pass
/// over 200k readings builds no report until one is read, and only keys that may have an incident carry a
/// verdict of their own (every other verdict follows from its reading). Per-column counts are kept for metrics.
public struct VerdictTable: Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// A verdict that does not follow from the reading alone, and the incident's phase.
    struct Override: Sendable {
        var verdict: Verdict
        var phase: Incident.Phase?
    }

    private struct Column: Sendable {
        var pool: String
        var rule: String
        var servers: [String]
        var cells: [PoolReadings.Stored?]
        /// The rows with a reading, when some have none.
        var rows: [Int]?
        var overrides: [Int: Override]
        var counts: [Int]

        var count: Int { rows?.count ?? cells.count }
    }

    private var columns: [Column] = []
    /// Where each column starts in the collection.
    private var starts: [Int] = []
    public private(set) var endIndex = 0

    /// An empty table.
    public init() {}

    /// A table of these reports, in this order.
    public init(_ reports: some Sequence<VerdictReport>) {
        for report in reports {
            var reading: Reading
            switch report.verdict {
            case .healthy: reading = .healthy
            case .unhealthy: reading = .unhealthy
            case .unknown: reading = .unknown(report.unknownReason ?? .noData)
            }
            let cell = PoolReadings.Stored(value: report.value, reading: reading, timed: false)
            let override = Override(verdict: report.verdict, phase: report.phase)
            add(pool: report.key.target.pool, rule: report.key.rule, servers: [report.key.target.server], cells: [cell], overrides: [0: override])
        }
    }

    public init(arrayLiteral reports: VerdictReport...) {
        self.init(reports)
    }

    /// Adds a column: `cells` are the readings of `rule` on the `servers` of `pool` (`nil` where none was
    /// taken), `overrides` the verdicts of rows whose keys may have an incident.
    mutating func add(pool: String, rule: String, servers: [String], cells: [PoolReadings.Stored?], overrides: [Int: Override]) {
        var counts = Array(repeating: 0, count: Verdict.allCases.count)
        var rows: [Int]?
        for (row, cell) in cells.enumerated() {
            guard let cell else {
                if rows == nil { rows = Array(0..<row) }
                continue
            }
            rows?.append(row)
            counts[Self.index(of: Self.verdict(of: cell.reading))] += 1
        }
        for (row, override) in overrides {
            guard let cell = cells[row] else { continue }
            counts[Self.index(of: Self.verdict(of: cell.reading))] -= 1
            counts[Self.index(of: override.verdict)] += 1
        }
        starts.append(endIndex)
        let column = Column(pool: pool, rule: rule, servers: servers, cells: cells, rows: rows, overrides: overrides, counts: counts)
        endIndex += column.count
        columns.append(column)
    }

    /// The verdict of a reading when no incident is open.
    static func verdict(of reading: Reading) -> Verdict {
        switch reading {
        case .unhealthy: .unhealthy
        case .healthy, .band: .healthy
        case .unknown: .unknown
        }
    }

    public var startIndex: Int { 0 }

    public subscript(position: Int) -> VerdictReport {
        precondition(position >= 0 && position < endIndex, "index out of range")
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= position { low = middle } else { high = middle - 1 }
        }
        let column = columns[low]
        let offset = position - starts[low]
        let row = column.rows?[offset] ?? offset
        let cell = column.cells[row]!
        var reason: UnknownReason?
        if case .unknown(let why) = cell.reading { reason = why }
        let override = column.overrides[row]
        return VerdictReport(
            key: IncidentKey(rule: column.rule, target: TargetID(pool: column.pool, server: column.servers[row])),
            verdict: override?.verdict ?? Self.verdict(of: cell.reading), value: cell.value, unknownReason: reason, phase: override?.phase)
    }

    /// How many targets of `pool` had `verdict` by `rule`.
    public func count(pool: String, rule: String, verdict: Verdict) -> Int {
        columns.reduce(0) { total, column in
            column.pool == pool && column.rule == rule ? total + column.counts[Self.index(of: verdict)] : total
        }
    }

    private static func index(of verdict: Verdict) -> Int {
        switch verdict {
        case .healthy: 0
        case .unhealthy: 1
        case .unknown: 2
        }
    }
}
