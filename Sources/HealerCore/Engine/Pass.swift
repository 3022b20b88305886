import SeriesLabels

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The working memory of one ``Engine`` pass.
struct Pass {
    let engine: Engine
    var state: EngineState
    let observations: Observations
    let now: Date

    var records: [DecisionRecord] = []
    var changes: [BalancerChange] = []
    var calls: [ActuatorCall] = []
    var verdicts = VerdictTable()
    /// This pass's readings, per pool.
    var tables: [String: PoolReadings] = [:]
    var capacity: [String: Double] = [:]
    var milestones: [Engine.Milestone] = []
    /// Per recovery rule: the servers whose data is stale this pass.
    var staleServers: [String: [String]] = [:]
    /// Per pool: servers the balancer shows serving nothing now — drained, in maintenance, at weight 0 or down —
    /// whoever put them there. The capacity floor counts what the balancer serves, not Healer's own bookkeeping.
    private(set) var outOfRotation: [String: Set<String>] = [:]
    /// Per pool: configured weight of non-spare servers, and of the rows that are healthy without an incident
    /// all pass long (computed once; only rows that may have an incident are judged again).
    private var staticCapacity: [String: StaticCapacity] = [:]
    /// Each target's incidents and each pool's servers in flight, in step with `state.incidents`.
    private(set) var index: IncidentIndex

    var safety: SafetySettings { engine.configuration.safety }

    init(engine: Engine, state: EngineState, observations: Observations, now: Date) {
        self.engine = engine
        self.state = state
        self.observations = observations
        self.now = now
        index = IncidentIndex(state.incidents)
    }

    /// Writes (or, with `nil`, removes) the incident of `key`: the one way a pass changes `state.incidents`.
    mutating func store(_ incident: Incident?, at key: IncidentKey) {
        state.incidents[key] = incident
        index.update(key, to: incident, in: state.incidents)
    }

    var outcome: Engine.Outcome {
        Engine.Outcome(state: state, plan: plan(), records: records, verdicts: verdicts, healthyCapacity: capacity, milestones: milestones)
    }

    mutating func run() {
        state.rateLimiter.refill(capacity: safety.maxActionsPerMinute, now: now)
        state.dryRunRateLimiter.refill(capacity: safety.maxActionsPerMinute, now: now)
        readAll()
        for (target, current) in observations.balancerStates where current.effectiveShare == 0 {
            outOfRotation[target.pool, default: []].insert(target.server)
        }
        for target in observations.down { outOfRotation[target.pool, default: []].insert(target.server) }
        noteRuleConditions()
        // Only keys with an incident, an unhealthy reading or an alert can change anything: the rest of a large
        // fleet is healthy, and advancing it would be a costly no-op.
        let unhealthy = tables.values.flatMap { table in table.unhealthy.map { table.key(column: $0.column, row: $0.row) } }
        let active = activeKeys(unhealthy: unhealthy)
        markDynamic(active)
        for (name, table) in tables { staticCapacity[name] = StaticCapacity(table, outOfRotation: outOfRotation[name] ?? []) }
        updateFlaps(unhealthy: unhealthy)
        updateStorms()
        // Incidents whose target left the inventory or whose rule was removed are kept (frozen) until they
        // come back: undoing nothing is the safe default. Report them as unknown. (A pod that left its pool is gone
        // for good: its incident closes first, so that it holds no place in flight that its replacement needs.)
        for key in state.incidents.keys.sorted() where read(key) == nil {
            freeze(key)
        }
        for key in active {
            advance(key)
        }
        adaptWeights()
        scaleSpares()
        reportVerdicts()
        for pool in engine.configuration.pools.keys { capacity[pool] = healthyCapacity(of: pool) }
        pruneHistory()
    }

    // MARK: - Readings

    /// This pass's reading of `key`, if one was taken.
    func read(_ key: IncidentKey) -> PoolReadings.Cell? {
        tables[key.target.pool]?.cell(rule: key.rule, server: key.target.server)
    }

    private mutating func readAll() {
        for (name, pool) in engine.configuration.pools.sorted(by: { $0.key < $1.key }) {
            let rules = engine.rules.values.filter { $0.pool == name }.sorted { $0.name < $1.name }
            let discover = observations.inventory[name] == nil
            let table = PoolReadings(pool: name, servers: observations.inventory[name] ?? Self.configuredServers(pool), rules: rules)
            let activeSpares = Set(state.scale[name]?.activeSpares ?? [])
            for rule in rules {
                let observation = observations.rules[rule.name] ?? .failed(.noAnswer, "no answer this pass")
                var samples: [SeriesSample] = []
                if case .series(let series) = observation.outcome { samples = series }
                // Servers seen in the series join the inventory when the balancer does not say otherwise.
                let (first, count) = table.match(samples, settings: pool, discover: discover)
                let maxAge = maxSampleAge(of: rule).seconds
                let base = Self.baseReading(observation: observation, maxAge: maxAge, now: now)
                let staleInputs = base == nil ? Self.staleInputs(observation, table: table, settings: pool) : [:]
                let anyStale = !staleInputs.isEmpty  // nearly always false: skip 10k lookups in an empty dictionary
                var column = [PoolReadings.Stored?](repeating: nil, count: table.servers.count)
                var exceptions: [Int: Date] = [:]
                let servers = table.servers
                // Read in place: copying a sample or a server out of its array retains and releases what it holds, and
                // writing a cell through the array checks that it is not shared, 200k times a pass.
                samples.withUnsafeBufferPointer { samples in
                    servers.withUnsafeBufferPointer { servers in
                        column.withUnsafeMutableBufferPointer { column in
                            for row in servers.indices {
                                // A spare out of rotation has no traffic: no series is no news.
                                if servers[row].isSpare, count[row] == 0, staleInputs[row] == nil, !activeSpares.contains(servers[row].server),
                                    state.incidents[IncidentKey(rule: rule.name, target: table.target(row))] == nil
                                {
                                    continue
                                }
                                let sample = count[row] == 1 ? (samples[first[row]].value, samples[first[row]].sampledAt) : nil
                                let cell =
                                    base
                                    ?? Self.reading(
                                        rule: rule, observation: observation, sample: sample, count: Int(count[row]),
                                        newestInput: anyStale ? staleInputs[row] : nil, maxAge: maxAge, now: now)
                                if let time = cell.sampleTime, time != observation.evaluatedAt { exceptions[row] = time }
                                if case .unknown(.stale) = cell.reading { staleServers[rule.name, default: []].append(servers[row].server) }
                                column[row] = PoolReadings.Stored(value: cell.value, reading: cell.reading, timed: cell.sampleTime != nil)
                            }
                        }
                    }
                }
                table.append(
                    column: column, evaluatedAt: observation.evaluatedAt, exceptions: exceptions,
                    ruleFault: observation.failure?.isRuleFault ?? false)
            }
            tables[name] = table
        }
    }

    static func configuredServers(_ pool: PoolSettings) -> [ServerInfo] {
        pool.servers.map { ServerInfo(server: $0) } + pool.spares.map { ServerInfo(server: $0, isSpare: true) }
    }

    /// The age past which a recovery rule's data is stale.
    func maxSampleAge(of rule: RecoveryRule) -> Duration {
        rule.maxSampleAge ?? engine.configuration.reconcile.maxSampleAge
    }

    /// The reading every target of a rule gets when the answer as a whole is not trustworthy.
    private static func baseReading(observation: RuleObservation, maxAge: Double, now: Date) -> PoolReadings.Cell? {
        if let failure = observation.failure {
            return PoolReadings.Cell(reading: .unknown(failure.isRuleFault ? .ruleError : .prometheusError))
        }
        guard observation.warnings.isEmpty else { return PoolReadings.Cell(reading: .unknown(.warnings)) }
        if let evaluatedAt = observation.evaluatedAt, now.timeIntervalSince(evaluatedAt) > maxAge {
            return PoolReadings.Cell(reading: .unknown(.stale), sampleTime: evaluatedAt)
        }
        return nil
    }

    /// The rows the rule's freshness answer names, with the time of their newest input sample.
    private static func staleInputs(_ observation: RuleObservation, table: PoolReadings, settings: PoolSettings) -> [Int: Date] {
        guard let stale = observation.staleInputs, !stale.isEmpty else { return [:] }
        var rows: [Int: Date] = [:]
        for sample in stale {
            guard let server = settings.server(for: sample.labels), let row = table.row(of: server) else { continue }
            // Named means the age test held; a value that is no time at all (-Inf from a custom expression) is as old
            // as it gets.
            let time = sample.value.isFinite ? Date(timeIntervalSince1970: sample.value) : .distantPast
            rows[row] = rows[row].map { min($0, time) } ?? time
        }
        return rows
    }

    /// The reading of one target of a trustworthy answer, before history: input staleness, no-data policy,
    /// thresholds. `sample` is the target's series when it has exactly one; `count` is how many it has;
    /// `newestInput` the time of the newest sample behind it, when the freshness answer names it.
    private static func reading(
        rule: RecoveryRule, observation: RuleObservation, sample: (value: Double, sampledAt: Date?)?, count: Int, newestInput: Date?, maxAge: Double,
        now: Date
    ) -> PoolReadings.Cell {
        let evaluatedAt = observation.evaluatedAt ?? now
        // Old data behind the answer is unknown whatever the answer says, its absence included: the exporter is
        // stuck, and the last thing it said proves nothing about the server now.
        if let newestInput, evaluatedAt.timeIntervalSince(newestInput) > maxAge {
            return PoolReadings.Cell(reading: .unknown(.stale), value: sample?.value, sampleTime: newestInput)
        }
        guard count > 0 else {
            switch rule.noData {
            case .unknown: return PoolReadings.Cell(reading: .unknown(.noData))
            case .healthy: return PoolReadings.Cell(reading: .healthy)
            case .unhealthy: return PoolReadings.Cell(reading: .unhealthy)
            }
        }
        guard count == 1, let sample else { return PoolReadings.Cell(reading: .unknown(.duplicateSeries)) }
        let time = sample.sampledAt ?? observation.evaluatedAt
        if let sampledAt = sample.sampledAt, evaluatedAt.timeIntervalSince(sampledAt) > maxAge {
            return PoolReadings.Cell(reading: .unknown(.stale), value: sample.value, sampleTime: time)
        }
        if sample.value.isNaN { return PoolReadings.Cell(reading: .unknown(.notANumber), sampleTime: time) }
        if rule.unhealthy.matches(sample.value) { return PoolReadings.Cell(reading: .unhealthy, value: sample.value, sampleTime: time) }
        if rule.healthy.matches(sample.value) { return PoolReadings.Cell(reading: .healthy, value: sample.value, sampleTime: time) }
        return PoolReadings.Cell(reading: .band, value: sample.value, sampleTime: time)
    }

    /// Keys with an unhealthy reading (`unhealthy`, each once), an incident or an alert, sorted.
    private func activeKeys(unhealthy: [IncidentKey]) -> [IncidentKey] {
        var active = unhealthy
        // The others once each, without hashing the unhealthy ones into a set: a key read unhealthy is listed already.
        func isListedOrUnread(_ key: IncidentKey) -> Bool {
            guard let cell = read(key) else { return true }
            return cell.reading == .unhealthy
        }
        for key in state.incidents.keys where !isListedOrUnread(key) { active.append(key) }
        for key in observations.alerts.keys where state.incidents[key] == nil && !isListedOrUnread(key) { active.append(key) }
        return active.sorted()
    }

    /// Marks the rows that may hold an incident this pass: those with one open, and those about to be advanced.
    private mutating func markDynamic(_ active: [IncidentKey]) {
        for key in active { tables[key.target.pool]?.markDynamic(key) }
        for key in state.incidents.keys { tables[key.target.pool]?.markDynamic(key) }
    }

    // MARK: - Flaps and storms

    /// Counts healthy/unhealthy changes per key. A key without history counts as healthy and stable, so that a
    /// large, healthy fleet keeps no history at all: only unhealthy readings and keys with history are looked at.
    private mutating func updateFlaps(unhealthy: [IncidentKey]) {
        var changed = unhealthy.map { ($0, unhealthy: true) }
        for key in state.flaps.keys where read(key)?.reading == .healthy { changed.append((key, false)) }
        let window = safety.flapWindow.seconds
        for (key, unhealthy) in changed {
            let before = state.flaps[key]
            var history = before ?? FlapHistory()
            if let last = history.lastUnhealthy, last != unhealthy { history.transitions.append(now) }
            history.lastUnhealthy = unhealthy
            history.transitions.removeAll { now.timeIntervalSince($0) > window }
            let after = !unhealthy && history.transitions.isEmpty ? nil : history
            if after != before { state.flaps[key] = after }  // a key unhealthy pass after pass changes nothing
        }
    }

    func isFlapping(_ key: IncidentKey) -> Bool {
        guard safety.flapTransitions > 0, let history = state.flaps[key] else { return false }
        let window = safety.flapWindow.seconds
        return history.transitions.filter { now.timeIntervalSince($0) <= window }.count >= safety.flapTransitions
    }

    /// The verdict of a key this pass, hysteresis applied (band keeps the incident's side).
    func verdict(_ key: IncidentKey) -> Verdict {
        verdict(key, reading: read(key)?.reading)
    }

    /// The verdict of a key read as `reading` this pass.
    private func verdict(_ key: IncidentKey, reading: Reading?) -> Verdict {
        switch reading {
        case .unhealthy?: return .unhealthy
        case .healthy?: return isFlapping(key) && state.incidents[key] != nil ? .unhealthy : .healthy
        case .band?: return state.incidents[key] == nil ? .healthy : .unhealthy
        case .unknown?, nil: return .unknown
        }
    }

    /// The verdict of a table's cell: without looking up incidents for rows that cannot have one.
    func verdict(_ table: PoolReadings, column: Int, row: Int) -> Verdict? {
        table.stored(column: column, row: row).map { verdict(table, column: column, row: row, reading: $0.reading) }
    }

    /// The verdict of a table's cell read as `reading`.
    private func verdict(_ table: PoolReadings, column: Int, row: Int, reading: Reading) -> Verdict {
        guard table.mayHaveIncident(column: column, row: row) else { return VerdictTable.verdict(of: reading) }
        return verdict(table.key(column: column, row: row), reading: reading)
    }

    /// What a row's verdicts say together: whether any rule read it, whether any found it unhealthy or unknown
    /// (troubled), and whether any found it unhealthy. Broken rules are left out: they say nothing about the server.
    struct RowSummary {
        var read = false
        var troubled = false
        var unhealthy = false

        mutating func add(_ verdict: Verdict) {
            switch verdict {
            case .healthy: read = true
            case .unhealthy: (read, troubled, unhealthy) = (true, true, true)
            case .unknown: (read, troubled) = (true, true)
            }
        }
    }

    /// The summary of `row`'s verdicts.
    func summary(_ table: PoolReadings, row: Int) -> RowSummary {
        var summary = RowSummary()
        for column in table.judgingColumns {
            if let verdict = verdict(table, column: column, row: row) { summary.add(verdict) }
        }
        return summary
    }

    /// The summary of every row's verdicts, read column by column: as ``summary(_:row:)`` for each row.
    func summaries(_ table: PoolReadings) -> [RowSummary] {
        var summaries = [RowSummary](repeating: RowSummary(), count: table.servers.count)
        // 200k cells at 10k servers: written in place.
        summaries.withUnsafeMutableBufferPointer { summaries in
            for column in table.judgingColumns {
                table.columns[column].withUnsafeBufferPointer { cells in
                    for row in cells.indices {
                        guard let reading = cells[row]?.reading else { continue }
                        summaries[row].add(verdict(table, column: column, row: row, reading: reading))
                    }
                }
            }
        }
        return summaries
    }

    private mutating func updateStorms() {
        var total = 0
        var troubled = 0
        var unhealthy = 0
        for name in engine.configuration.pools.keys.sorted() {
            guard let table = tables[name] else { continue }
            var servers = 0
            var sick = 0
            var failing = 0
            let summaries = summaries(table)
            for row in table.servers.indices where !table.servers[row].isSpare {
                let summary = summaries[row]
                guard summary.read else { continue }  // no working rule reads it: it says nothing either way
                servers += 1
                if summary.troubled { sick += 1 }
                if summary.unhealthy { failing += 1 }
            }
            total += servers
            troubled += sick
            unhealthy += failing
            updateStorm(scope: name, troubled: sick, unhealthy: failing, total: servers)
        }
        updateStorm(scope: "*", troubled: troubled, unhealthy: unhealthy, total: total)
    }
    private mutating func updateStorm(scope: String, troubled: Int, unhealthy: Int, total: Int) {
        var storm = state.storms[scope] ?? StormState()
        let share = total == 0 ? 0 : Double(troubled) / Double(total)
        let active = total > 0 && share > safety.stormMaxUnhealthy
        if active, total > 0, Double(unhealthy) / Double(total) > safety.stormMaxUnhealthy { storm.sawUnhealthy = true }
        if active, storm.activeSince == nil {
            storm.activeSince = now
            records.append(
                DecisionRecord(
                    time: now, kind: .pool, pool: scope,
                    because: .stormStarted(scope: scope, troubled: troubled, total: total, threshold: safety.stormMaxUnhealthy)))
        } else if !active, let since = storm.activeSince {
            storm.activeSince = nil
            let lasted = Int(now.timeIntervalSince(since))
            if storm.sawUnhealthy {
                storm.cooldownUntil = now.addingTimeInterval(safety.stormCooldown.seconds)
                records.append(
                    DecisionRecord(time: now, kind: .pool, pool: scope, because: .stormOver(seconds: lasted, cooldown: safety.stormCooldown)))
            } else {
                records.append(
                    DecisionRecord(time: now, kind: .pool, pool: scope, because: .stormOverWithoutCooldown(seconds: lasted)))
            }
            storm.sawUnhealthy = false
        }
        if storm == StormState() { state.storms[scope] = nil } else { state.storms[scope] = storm }
    }

    // MARK: - Capacity

    /// Healthy capacity of `pool`: configured weight of servers that are healthy by every rule and in rotation,
    /// times their simulated weight share, over the configured weight of non-spare servers.
    func healthyCapacity(of pool: String, overriding override: (TargetID, DesiredServerState)? = nil) -> Double {
        guard let table = tables[pool] else { return 0 }
        let out = outOfRotation[pool] ?? []
        let base = staticCapacity[pool] ?? StaticCapacity(table, outOfRotation: out)
        guard base.total > 0 else { return 0 }
        var healthy = base.healthy
        var rows = base.candidates
        if let override, let row = table.row(of: override.0.server), !table.mayHaveIncident(row) {
            if base.isHealthy(row) {
                healthy -= Double(table.servers[row].configuredWeight)
                rows.append(row)
            }
        }
        for row in rows where !table.dynamicKeys(row: row).contains(where: { state.incidents[$0] != nil }) && !out.contains(table.servers[row].server)
        {
            let target = table.target(row)
            let desired = override?.0 == target ? override!.1 : (simulatedState(of: target) ?? .normal)
            healthy += Double(table.servers[row].configuredWeight) * desired.effectiveShare
        }
        return healthy / Double(base.total)
    }

    /// What of a pool's capacity cannot change during a pass. Rows without incidents and read healthy by every
    /// rule count at full weight; rows that may have an incident and are read healthy (or in the band) by every
    /// rule are candidates, healthy while none of their incidents is open; every other row is not healthy.
    /// Broken rules are left out: a typo in one rule must not make the pool look dead to the others.
    struct StaticCapacity {
        /// Configured weight of non-spare servers.
        var total = 0
        /// Weight of healthy rows without incidents.
        var healthy = 0.0
        /// Rows healthy when none of their keys has an incident.
        var candidates: [Int] = []
        private var healthyRows: [Bool]

        init(_ table: PoolReadings, outOfRotation out: Set<String>) {
            healthyRows = Array(repeating: false, count: table.servers.count)
            let judging = table.judgingColumns
            for (row, server) in table.servers.enumerated() {
                if !server.isSpare { total += server.configuredWeight }
                var read = false
                var healthyReadings = true
                for column in judging {
                    guard let cell = table.stored(column: column, row: row) else { continue }
                    read = true
                    if cell.reading != .healthy, cell.reading != .band { healthyReadings = false }
                }
                guard read, healthyReadings, out.isEmpty || !out.contains(server.server) else { continue }
                if table.mayHaveIncident(row) {
                    candidates.append(row)
                } else {
                    healthy += Double(server.configuredWeight)
                    healthyRows[row] = true
                }
            }
        }

        /// Whether a row without incidents is healthy.
        func isHealthy(_ row: Int) -> Bool { healthyRows[row] }
    }

    // MARK: - The plan

    /// The desired state of `target` with its remedies in force combined (only those not in dry run, with
    /// `enforcedOnly`), or `nil` when none is.
    func simulatedState(of target: TargetID, enforcedOnly: Bool = false) -> DesiredServerState? {
        var combined: DesiredServerState?
        index.forEachKey(of: target) { key in
            guard let incident = state.incidents[key], let desired = desiredState(of: incident, enforcedOnly: enforcedOnly) else { return }
            Self.combine(desired, into: &combined)
        }
        return combined
    }

    /// What `incident` wants of its server, if anything; with `enforcedOnly`, nothing when it is a dry run.
    private func desiredState(of incident: Incident, enforcedOnly: Bool) -> DesiredServerState? {
        enforcedOnly && incident.dryRun ? nil : desiredState(of: incident)
    }

    /// Adds `desired` to what a target's incidents want together: the least weight and the most drained win, in any
    /// order.
    private static func combine(_ desired: DesiredServerState, into combined: inout DesiredServerState?) {
        combined = combined.map { $0.combined(with: desired) } ?? desired
    }

    /// The desired state of every target with a remedy in force, incidents combined.
    func simulatedStates(enforcedOnly: Bool = false) -> [TargetID: DesiredServerState] {
        // As `simulatedState(of:)` for each target, from the incidents themselves (not target by target through the
        // index: five hashes each).
        var states: [TargetID: DesiredServerState] = [:]
        for incident in state.incidents.values {
            guard let desired = desiredState(of: incident, enforcedOnly: enforcedOnly) else { continue }
            Self.combine(desired, into: &states[incident.key.target])
        }
        return states
    }

    func desiredState(of incident: Incident) -> DesiredServerState? {
        // A pending incident has done nothing (most incidents of a large fleet, so before the rule's lookup).
        guard incident.phase != .pending, let rule = engine.rules[incident.key.rule] else { return nil }
        switch incident.phase {
        case .pending: return nil
        case .firing: return incident.recoveryState ?? RemedyEffects.state(after: incident.appliedStep, of: rule.ladder)
        case .quarantined: return RemedyEffects.state(after: incident.appliedStep, of: rule.ladder)
        case .recovering: return incident.recoveryState ?? RemedyEffects.state(after: incident.appliedStep, of: rule.ladder)
        }
    }

    func plan() -> Plan {
        // Remedies take precedence over adaptive weights and spares for the servers they concern.
        let capacity = capacityStates()
        let enforcedCapacity = safety.dryRun ? [:] : capacity
        return Plan(
            desired: enforcedCapacity.merging(simulatedStates(enforcedOnly: true)) { $1 }, simulated: capacity.merging(simulatedStates()) { $1 },
            changes: changes, calls: calls)
    }

    private mutating func reportVerdicts() {
        for name in engine.configuration.pools.keys.sorted() {
            guard let table = tables[name] else { continue }
            let servers = table.servers.map(\.server)
            for (column, rule) in table.rules.enumerated() {
                var overrides: [Int: VerdictTable.Override] = [:]
                for row in table.dynamicRows(column: column) {
                    guard let cell = table.stored(column: column, row: row) else { continue }
                    let key = table.key(column: column, row: row)
                    overrides[row] = VerdictTable.Override(verdict: verdict(key, reading: cell.reading), phase: state.incidents[key]?.phase)
                }
                verdicts.add(pool: name, rule: rule.name, servers: servers, cells: table.columns[column], overrides: overrides)
            }
        }
    }

    private mutating func pruneHistory() {
        for (key, dates) in state.attempts {
            let window = engine.rules[key.rule]?.budget.window.seconds ?? 0
            let kept = dates.filter { now.timeIntervalSince($0) < window }
            state.attempts[key] = kept.isEmpty ? nil : kept
        }
        for (key, history) in state.flaps where history.transitions.isEmpty && read(key) == nil {
            state.flaps[key] = nil
        }
        let longestCooldown = safety.targetCooldown.seconds
        for (target, time) in state.lastActionAt where now.timeIntervalSince(time) > longestCooldown {
            state.lastActionAt[target] = nil
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// `60%`
func percent(_ share: Double) -> String {
    "\(Int((share * 100).rounded()))%"
}
