import SeriesLabels

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One pass's readings of one pool: a row per server (inventory order), a column per recovery rule of the pool
/// (by name).
///
/// Dense on purpose: a fleet of 10k servers judged by 20 rules is 200k readings a pass, nearly all healthy.
/// Walking arrays by row and column costs a few nanoseconds a reading; keying each by rule, pool and server
/// names cost a string-hashing lookup each time a reading was touched, which was most of a pass.
///
/// A class, made and filled by one pass and dropped with it: a pass looks a table up for each key it judges, and a
/// copy of a struct of a dozen arrays (what a dictionary hands out) retained and released each of them. Its
/// properties are exempt from run-time exclusivity checks, which cost as much again: one pass, on one thread,
/// owns it.
final class PoolReadings {
    /// The reading of one rule on one server.
    struct Cell {
        var reading: Reading
        var value: Double?
        var sampleTime: Date?
    }

    /// A cell as stored: 16 bytes. Its sample time, when it has one, is the column's evaluation time unless the
    /// sample carried its own (kept apart, since Prometheus answers rarely do).
    struct Stored: Sendable {
        var value: Double?
        var reading: Reading
        var timed: Bool
    }

    /// The pool's name.
    let pool: String
    /// The servers, in inventory order; servers first seen in series are added as the rules are read.
    @exclusivity(unchecked) private(set) var servers: [ServerInfo]
    /// The pool's recovery rules, by name.
    let rules: [RecoveryRule]
    /// Per rule (same order), per row: the reading, or `nil` when none was taken (a spare out of rotation
    /// without series, or a server first seen in a later rule's series).
    @exclusivity(unchecked) private(set) var columns: [[Stored?]] = []
    /// The columns that judge the pool's health as a whole (storms, healthy capacity): all but those of rules
    /// broken by their own fault this pass (``RuleFailure/isRuleFault``), whose verdicts are unknown.
    @exclusivity(unchecked) private(set) var judgingColumns: [Int] = []
    /// The cells read unhealthy, column by column: the few a large, healthy fleet has.
    @exclusivity(unchecked) private(set) var unhealthy: [(column: Int, row: Int)] = []
    /// Per rule: the answer's evaluation time, and the rows whose sample time differs from it.
    @exclusivity(unchecked) private var columnTimes: [(evaluatedAt: Date?, exceptions: [Int: Date])] = []
    /// Rows with a key that may have an incident this pass (one open at the start, or advanced this pass),
    /// and those keys, a flag per cell row by row (`row × rules + column`). Every other key has none, so its
    /// verdict follows from its reading alone.
    @exclusivity(unchecked) private(set) var isDynamic: [Bool] = []
    @exclusivity(unchecked) private var dynamicCells: [Bool] = []
    @exclusivity(unchecked) private var dynamicRowsByColumn: [[Int]] = []
    @exclusivity(unchecked) private var rowByServer: [String: Int]
    private let columnByRule: [String: Int]

    /// A table of `servers` (a name listed twice counts once) judged by `rules`.
    init(pool: String, servers: [ServerInfo], rules: [RecoveryRule]) {
        self.pool = pool
        self.rules = rules
        var rowByServer: [String: Int] = [:]
        rowByServer.reserveCapacity(servers.count)
        var unique: [ServerInfo] = []
        unique.reserveCapacity(servers.count)
        for server in servers {
            // One lookup a server, 10k a pass: a name seen before gets its first row back.
            if let first = rowByServer.updateValue(unique.count, forKey: server.server) {
                rowByServer[server.server] = first
            } else {
                unique.append(server)
            }
        }
        self.servers = unique
        self.rowByServer = rowByServer
        columnByRule = Dictionary(rules.enumerated().map { ($0.element.name, $0.offset) }) { first, _ in first }
    }

    /// The row of `server`.
    func row(of server: String) -> Int? { rowByServer[server] }

    /// The target of `row`.
    func target(_ row: Int) -> TargetID { TargetID(pool: pool, server: servers[row].server) }

    /// The key of `column` and `row`.
    func key(column: Int, row: Int) -> IncidentKey { IncidentKey(rule: rules[column].name, target: target(row)) }

    /// The reading of `rule` on `server`.
    func cell(rule: String, server: String) -> Cell? {
        guard let column = columnByRule[rule], let row = rowByServer[server] else { return nil }
        return cell(column: column, row: row)
    }

    /// The reading of `column` on `row`.
    func cell(column: Int, row: Int) -> Cell? {
        guard let stored = stored(column: column, row: row) else { return nil }
        let time = stored.timed ? (columnTimes[column].exceptions[row] ?? columnTimes[column].evaluatedAt) : nil
        return Cell(reading: stored.reading, value: stored.value, sampleTime: time)
    }

    /// The stored reading of `column` on `row`.
    func stored(column: Int, row: Int) -> Stored? {
        row < columns[column].count ? columns[column][row] : nil
    }

    /// Which series name which row: the first sample's index and how many there were (2 meaning several). The one
    /// place a series is mapped to a server (through the pool's target template), for recovery and weight rules alike.
    /// Servers the series name that are not rows yet join, sorted, when `discover` is set.
    func match(_ samples: [SeriesSample], settings: PoolSettings, discover: Bool) -> (first: [Int], count: [UInt8]) {
        var first = [Int](repeating: -1, count: servers.count)
        var count = [UInt8](repeating: 0, count: servers.count)
        var unseen: [String: [Int]] = [:]
        // The usual pool names its server by one label: read that label, render nothing.
        let label = settings.serverLabel
        let known = servers
        // Read in place: copying a sample out of the array would retain and release its label storage.
        samples.withUnsafeBufferPointer { samples in
            known.withUnsafeBufferPointer { known in
                var guess = 0
                for index in samples.indices {
                    let named: String?
                    if let label {
                        named = TargetTemplate.value(of: label, in: samples[index].labels)
                    } else {
                        named = settings.server(for: samples[index].labels)
                    }
                    guard let server = named else { continue }
                    // Prometheus answers a query with its series in the same order pass after pass, and usually in the
                    // inventory's order: try the row after the last one before hashing the name.
                    let row: Int
                    if guess < known.count, known[guess].server == server {
                        row = guess
                    } else if let found = rowByServer[server] {
                        row = found
                    } else {
                        if discover, TargetID.isValidServerName(server) { unseen[server, default: []].append(index) }
                        continue
                    }
                    guess = row + 1
                    if count[row] == 0 { first[row] = index }
                    count[row] = min(2, count[row] + 1)
                }
            }
        }
        for server in unseen.keys.sorted() {
            let indexes = unseen[server] ?? []
            rowByServer[server] = servers.count
            servers.append(ServerInfo(server: server, isSpare: settings.spares.contains(server)))
            first.append(indexes[0])
            count.append(UInt8(min(2, indexes.count)))
        }
        return (first, count)
    }

    /// Adds the next rule's column (rules are read in order): its answer was evaluated at `evaluatedAt`, the
    /// rows of `exceptions` carried their own sample time, and `ruleFault` says the rule itself is broken.
    func append(column: [Stored?], evaluatedAt: Date?, exceptions: [Int: Date], ruleFault: Bool = false) {
        precondition(columns.count < rules.count && column.count == servers.count)
        for row in column.indices where column[row]?.reading == .unhealthy { unhealthy.append((columns.count, row)) }
        columns.append(column)
        columnTimes.append((evaluatedAt, exceptions))
        if !ruleFault { judgingColumns.append(columns.count - 1) }
    }

    /// Marks `key` as possibly having an incident this pass (rules are all read by then).
    func markDynamic(_ key: IncidentKey) {
        guard let row = rowByServer[key.target.server], let column = columnByRule[key.rule] else { return }
        if isDynamic.count < servers.count {
            isDynamic += repeatElement(false, count: servers.count - isDynamic.count)
            dynamicCells += repeatElement(false, count: servers.count * rules.count - dynamicCells.count)
        }
        isDynamic[row] = true
        // A flag per cell, not a set of cells: 40k lookups a pass at 10k servers, each was a hash.
        let cell = row * rules.count + column
        if !dynamicCells[cell] {
            dynamicCells[cell] = true
            if dynamicRowsByColumn.isEmpty { dynamicRowsByColumn = Array(repeating: [], count: rules.count) }
            dynamicRowsByColumn[column].append(row)
        }
    }

    /// The rows of `column` whose key may have an incident this pass.
    func dynamicRows(column: Int) -> [Int] {
        dynamicRowsByColumn.isEmpty ? [] : dynamicRowsByColumn[column]
    }

    /// The keys of `row` that may have an incident this pass.
    func dynamicKeys(row: Int) -> [IncidentKey] {
        guard mayHaveIncident(row) else { return [] }
        return columns.indices.compactMap { column in mayHaveIncident(column: column, row: row) ? key(column: column, row: row) : nil }
    }

    /// Whether a key of `row` may have an incident this pass.
    func mayHaveIncident(_ row: Int) -> Bool { row < isDynamic.count && isDynamic[row] }

    /// Whether the key of `column` and `row` may have an incident this pass.
    func mayHaveIncident(column: Int, row: Int) -> Bool { mayHaveIncident(row) && dynamicCells[row * rules.count + column] }
}
