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
    var actions: [PlannedAction] = []
    var verdicts: [VerdictReport] = []
    /// This pass's reading and value per incident key.
    var readings: [IncidentKey: (reading: Reading, value: Double?, sampleTime: Date?)] = [:]
    /// The keys read this pass, per target.
    var keysByTarget: [TargetID: [IncidentKey]] = [:]
    /// The keys read this pass, in a stable order (pools, then rules, then servers), for reports.
    var orderedKeys: [IncidentKey] = []
    /// Servers per pool.
    var inventory: [String: [ServerInfo]] = [:]
    var capacity: [String: Double] = [:]
    var milestones: [Engine.Milestone] = []

    var safety: SafetySettings { engine.configuration.safety }

    init(engine: Engine, state: EngineState, observations: Observations, now: Date) {
        self.engine = engine
        self.state = state
        self.observations = observations
        self.now = now
    }

    var outcome: Engine.Outcome {
        Engine.Outcome(state: state, plan: plan(), records: records, verdicts: verdicts, healthyCapacity: capacity, milestones: milestones)
    }

    mutating func run() {
        state.rateLimiter.refill(capacity: safety.maxActionsPerMinute, now: now)
        state.dryRunRateLimiter.refill(capacity: safety.maxActionsPerMinute, now: now)
        readAll()
        updateFlaps()
        updateStorms()
        // Only keys with an incident, an unhealthy reading or an alert can change anything: the rest of a large
        // fleet is healthy, and advancing it would be a costly no-op.
        let active = readings.filter { key, read in
            read.reading == .unhealthy || state.incidents[key] != nil || observations.alerts[key] != nil
        }.keys
        for key in active.sorted() {
            advance(key)
        }
        // Incidents whose target left the inventory or whose rule was removed are kept (frozen) until
        // they come back: undoing nothing is the safe default. Report them as unknown.
        for key in state.incidents.keys.sorted() where readings[key] == nil {
            freeze(key)
        }
        adaptWeights()
        scaleSpares()
        reportVerdicts()
        for pool in engine.configuration.pools.keys { capacity[pool] = healthyCapacity(of: pool) }
        pruneHistory()
    }

    // MARK: - Readings

    private mutating func readAll() {
        for (name, pool) in engine.configuration.pools.sorted(by: { $0.key < $1.key }) {
            let rules = engine.rules.values.filter { $0.pool == name }
            var servers = observations.inventory[name] ?? Self.configuredServers(pool)
            var known = Set(servers.map(\.server))
            for rule in rules.sorted(by: { $0.name < $1.name }) {
                let observation = observations.rules[rule.name] ?? .failed("no answer this pass")
                let perServer = Self.samplesByServer(observation, pool: pool)
                // Servers seen in the series join the inventory when the balancer does not say otherwise.
                if observations.inventory[name] == nil {
                    for server in perServer.keys.sorted() where !known.contains(server) {
                        known.insert(server)
                        servers.append(ServerInfo(server: server, isSpare: pool.spares.contains(server)))
                    }
                }
                for server in servers {
                    let key = IncidentKey(rule: rule.name, target: TargetID(pool: name, server: server.server))
                    let samples = perServer[server.server]
                    // A spare out of rotation has no traffic: no series is no news.
                    let activeSpare = state.scale[name]?.activeSpares.contains(server.server) ?? false
                    if server.isSpare, !activeSpare, samples == nil, state.incidents[key] == nil { continue }
                    readings[key] = Self.reading(rule: rule, observation: observation, samples: samples, now: now, engine: engine)
                    keysByTarget[key.target, default: []].append(key)
                    orderedKeys.append(key)
                }
            }
            inventory[name] = servers
        }
    }

    static func configuredServers(_ pool: PoolSettings) -> [ServerInfo] {
        pool.servers.map { ServerInfo(server: $0) } + pool.spares.map { ServerInfo(server: $0, isSpare: true) }
    }

    static func samplesByServer(_ observation: RuleObservation, pool: PoolSettings) -> [String: [SeriesSample]] {
        guard case .series(let samples) = observation.outcome else { return [:] }
        var byServer: [String: [SeriesSample]] = [:]
        for sample in samples {
            if let server = pool.server(for: sample.labels) { byServer[server, default: []].append(sample) }
        }
        return byServer
    }

    /// The reading of one target before history: thresholds, no-data policy, staleness, errors.
    static func reading(
        rule: RecoveryRule, observation: RuleObservation, samples: [SeriesSample]?, now: Date, engine: Engine
    ) -> (reading: Reading, value: Double?, sampleTime: Date?) {
        guard case .series = observation.outcome else { return (.unknown(.prometheusError), nil, nil) }
        guard observation.warnings.isEmpty else { return (.unknown(.warnings), nil, nil) }
        let maxAge = (rule.maxSampleAge ?? engine.configuration.reconcile.maxSampleAge).seconds
        if let evaluatedAt = observation.evaluatedAt, now.timeIntervalSince(evaluatedAt) > maxAge {
            return (.unknown(.stale), nil, evaluatedAt)
        }
        guard let samples, !samples.isEmpty else {
            switch rule.noData {
            case .unknown: return (.unknown(.noData), nil, nil)
            case .healthy: return (.healthy, nil, nil)
            case .unhealthy: return (.unhealthy, nil, nil)
            }
        }
        guard samples.count == 1, let sample = samples.first else { return (.unknown(.duplicateSeries), nil, nil) }
        let time = sample.sampledAt ?? observation.evaluatedAt
        if let sampledAt = sample.sampledAt, (observation.evaluatedAt ?? now).timeIntervalSince(sampledAt) > maxAge {
            return (.unknown(.stale), sample.value, time)
        }
        if sample.value.isNaN { return (.unknown(.notANumber), nil, time) }
        if rule.unhealthy.matches(sample.value) { return (.unhealthy, sample.value, time) }
        if rule.healthy.matches(sample.value) { return (.healthy, sample.value, time) }
        return (.band, sample.value, time)
    }

    // MARK: - Flaps and storms

    /// Counts healthy/unhealthy changes per key. A key without history counts as healthy and stable, so that a
    /// large, healthy fleet keeps no history at all.
    private mutating func updateFlaps() {
        let window = safety.flapWindow.seconds
        for (key, read) in readings {
            let unhealthy: Bool
            switch read.reading {
            case .unhealthy: unhealthy = true
            case .healthy: unhealthy = false
            case .band, .unknown: continue
            }
            guard unhealthy || state.flaps[key] != nil else { continue }
            var history = state.flaps[key] ?? FlapHistory()
            if let last = history.lastUnhealthy, last != unhealthy { history.transitions.append(now) }
            history.lastUnhealthy = unhealthy
            history.transitions.removeAll { now.timeIntervalSince($0) > window }
            state.flaps[key] = !unhealthy && history.transitions.isEmpty ? nil : history
        }
    }

    func isFlapping(_ key: IncidentKey) -> Bool {
        guard safety.flapTransitions > 0, let history = state.flaps[key] else { return false }
        let window = safety.flapWindow.seconds
        return history.transitions.filter { now.timeIntervalSince($0) <= window }.count >= safety.flapTransitions
    }

    /// The verdict of a key this pass, hysteresis applied (band keeps the incident's side).
    func verdict(_ key: IncidentKey) -> Verdict {
        switch readings[key]?.reading {
        case .unhealthy?: return .unhealthy
        case .healthy?: return isFlapping(key) && state.incidents[key] != nil ? .unhealthy : .healthy
        case .band?: return state.incidents[key] == nil ? .healthy : .unhealthy
        case .unknown?, nil: return .unknown
        }
    }

    private mutating func updateStorms() {
        var total = 0
        var troubled = 0
        var unhealthy = 0
        for (name, _) in engine.configuration.pools.sorted(by: { $0.key < $1.key }) {
            let servers = (inventory[name] ?? []).filter { !$0.isSpare }
            var sick = 0
            var failing = 0
            for server in servers {
                var troubled = false
                var unhealthy = false
                for key in keysByTarget[TargetID(pool: name, server: server.server)] ?? [] {
                    switch verdict(key) {
                    case .healthy: break
                    case .unhealthy: troubled = true; unhealthy = true
                    case .unknown: troubled = true
                    }
                }
                if troubled { sick += 1 }
                if unhealthy { failing += 1 }
            }
            total += servers.count
            troubled += sick
            unhealthy += failing
            updateStorm(scope: name, troubled: sick, unhealthy: failing, total: servers.count)
        }
        updateStorm(scope: "*", troubled: troubled, unhealthy: unhealthy, total: total)
    }

    private mutating func updateStorm(scope: String, troubled: Int, unhealthy: Int, total: Int) {
        var storm = state.storms[scope] ?? StormState()
        let share = total == 0 ? 0 : Double(troubled) / Double(total)
        let active = total > 0 && share > safety.stormMaxUnhealthy
        if active, total > 0, Double(unhealthy) / Double(total) > safety.stormMaxUnhealthy { storm.sawUnhealthy = true }
        let label = scope == "*" ? "all pools" : "pool \(scope)"
        if active, storm.activeSince == nil {
            storm.activeSince = now
            records.append(
                DecisionRecord(
                    time: now, kind: .pool, pool: scope,
                    reason:
                        "storm: \(troubled) of \(total) servers of \(label) are unhealthy or unknown (over \(percent(safety.stormMaxUnhealthy))); destructive actions frozen"
                ))
        } else if !active, let since = storm.activeSince {
            storm.activeSince = nil
            let lasted = "storm over after \(Int(now.timeIntervalSince(since)))s"
            if storm.sawUnhealthy {
                storm.cooldownUntil = now.addingTimeInterval(safety.stormCooldown.seconds)
                let cooldown = PrometheusDuration.format(safety.stormCooldown)
                records.append(
                    DecisionRecord(
                        time: now, kind: .pool, pool: scope, reason: "\(lasted); destructive actions resume after a cooldown of \(cooldown)"))
            } else {
                records.append(
                    DecisionRecord(time: now, kind: .pool, pool: scope, reason: "\(lasted); data was missing, not unhealthy: no cooldown"))
            }
            storm.sawUnhealthy = false
        }
        if storm == StormState() { state.storms[scope] = nil } else { state.storms[scope] = storm }
    }

    // MARK: - Capacity

    /// Healthy capacity of `pool`: configured weight of servers that are healthy by every rule and in rotation,
    /// times their simulated weight share, over the configured weight of non-spare servers.
    func healthyCapacity(of pool: String, overriding override: (TargetID, DesiredServerState)? = nil) -> Double {
        let servers = inventory[pool] ?? []
        let total = servers.filter { !$0.isSpare }.reduce(0) { $0 + $1.configuredWeight }
        guard total > 0 else { return 0 }
        let simulated = simulatedStates()
        var healthy = 0.0
        for server in servers {
            let target = TargetID(pool: pool, server: server.server)
            let keys = keysByTarget[target] ?? []
            let isHealthy = !keys.isEmpty && keys.allSatisfy { verdict($0) == .healthy && state.incidents[$0] == nil }
            guard isHealthy else { continue }
            let desired = override?.0 == target ? override!.1 : (simulated[target] ?? .normal)
            healthy += Double(server.configuredWeight) * desired.effectiveShare
        }
        return healthy / Double(total)
    }

    // MARK: - The plan

    /// The desired state of every target with a remedy in force, incidents combined.
    func simulatedStates(enforcedOnly: Bool = false) -> [TargetID: DesiredServerState] {
        var states: [TargetID: DesiredServerState] = [:]
        for incident in state.incidents.values where !(enforcedOnly && incident.dryRun) {
            guard let desired = desiredState(of: incident) else { continue }
            states[incident.key.target] = states[incident.key.target].map { $0.combined(with: desired) } ?? desired
        }
        return states
    }

    func desiredState(of incident: Incident) -> DesiredServerState? {
        guard let rule = engine.rules[incident.key.rule] else { return nil }
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
            actions: actions, desired: enforcedCapacity.merging(simulatedStates(enforcedOnly: true)) { $1 },
            simulated: capacity.merging(simulatedStates()) { $1 })
    }

    private mutating func reportVerdicts() {
        verdicts.reserveCapacity(orderedKeys.count)
        for key in orderedKeys {
            guard let read = readings[key] else { continue }
            var reason: UnknownReason?
            if case .unknown(let why) = read.reading { reason = why }
            verdicts.append(
                VerdictReport(key: key, verdict: verdict(key), value: read.value, unknownReason: reason, phase: state.incidents[key]?.phase))
        }
    }

    private mutating func pruneHistory() {
        for (key, dates) in state.attempts {
            let window = engine.rules[key.rule]?.budget.window.seconds ?? 0
            let kept = dates.filter { now.timeIntervalSince($0) < window }
            state.attempts[key] = kept.isEmpty ? nil : kept
        }
        for (key, history) in state.flaps where history.transitions.isEmpty && readings[key] == nil {
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
