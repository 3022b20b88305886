public import Foundation
public import HealerCore
public import Logging
public import ServiceLifecycle
import Synchronization

/// The reconcile loop: every `interval`, query every rule, let the engine decide, carry out the plan.
///
/// Timing is slotted like Prometheus' rule groups: a pass that overruns its slot skips the missed slots (and
/// counts them) instead of catching up in a burst. On graceful shutdown the loop stops scheduling; a pass in
/// flight finishes first.
public final class ReconcilerService<C: Clock>: Service, Sendable where C.Duration == Duration {
    /// The seams the loop talks to.
    public struct Dependencies: Sendable {
        /// Where rule expressions are evaluated.
        public var metrics: any MetricsSource
        /// Who carries out actions.
        public var actuator: any Actuator
        /// The load balancers; `nil` when Healer only records (no balancer configured).
        public var balancer: (any Balancer)?
        /// Where state survives restarts; `nil` keeps it in memory only.
        public var store: (any StateStore)?
        /// Who may act.
        public var elector: any LeaderElector
        /// Where decision records are kept for the API.
        public var journal: DecisionJournal
        /// Healer's own metrics; `nil` records none.
        public var observer: ControllerMetrics?

        /// Creates the dependencies.
        public init(
            metrics: any MetricsSource, actuator: any Actuator = DryRunActuator(), balancer: (any Balancer)? = nil, store: (any StateStore)? = nil,
            elector: any LeaderElector = SingleInstanceLeaderElector(), journal: DecisionJournal = DecisionJournal(),
            observer: ControllerMetrics? = nil
        ) {
            self.metrics = metrics
            self.actuator = actuator
            self.balancer = balancer
            self.store = store
            self.elector = elector
            self.journal = journal
            self.observer = observer
        }
    }

    /// What the last pass saw and decided, for status views.
    public struct PassReport: Sendable {
        /// When it ran.
        public var time: Date
        /// How long it took.
        public var duration: Duration
        /// The engine's outcome.
        public var outcome: Engine.Outcome
        /// What came of each balancer change and actuator call of the plan.
        public var results: EffectResults
    }

    /// What the service keeps between passes and shows to the API: one value, behind one lock.
    private struct Memory {
        /// The engine of the configuration in force (a reload replaces it; state is kept).
        var engine: Engine
        /// The state the last pass saved (or the one loaded at start); `nil` until loaded.
        var state: EngineState?
        /// Commands from the admin API, applied to the state at the start of the next pass.
        var commands: [OperatorCommand] = []
        /// Alerts waiting for the next pass, by incident key.
        var alerts: [IncidentKey: String] = [:]
        /// Ladder steps whose actuator failed in the last pass, for the next one: they are not in force.
        var failedSteps: [IncidentKey: FailedStep] = [:]
        /// When the last pass in which Prometheus answered every query ended, for readiness (a rule whose own
        /// expression is wrong does not count against it).
        var lastHealthyPass: Date?
        /// Rules that could not be evaluated in the last pass through their own fault, by name.
        var brokenRules: [String: RuleFailure] = [:]
        /// Pools whose balancer could not be seen in the last pass, with why.
        var unreachable: [String: String] = [:]
        /// Why the last pass could not load or save the state; `nil` when it could.
        var stateFailure: String?
        /// The term this replica fenced the shared state with (``SharedStateStore``); `nil` while it follows.
        var fencedTerm: LeaderTerm?
        /// Whether this replica took the shared state over and has not yet recorded stepping down.
        var tookOver = false
        /// Whether the last pass led.
        var leading = false
        /// The last pass.
        var report: PassReport?
        /// Slots skipped because a pass overran its interval.
        var missed = 0
        /// The last failure logged per expression, to log each failure once, and its end.
        var queryFailures: [String: String] = [:]
        /// The last unreachable-balancer reason logged per pool.
        var balancerFailures: [String: String] = [:]
    }

    private let memory: Mutex<Memory>
    /// The engine of the configuration in force (a reload replaces it; state is kept).
    public var engine: Engine { memory.withLock { $0.engine } }
    private let dependencies: Dependencies
    private let clock: C
    private let now: @Sendable () -> Date
    private let logger: Logger
    /// Rung for a pass now (this replica started leading).
    public let passTrigger: PassTrigger

    /// Creates the loop.
    ///
    /// - Parameters:
    ///   - clock: schedules passes (a manual clock in tests).
    ///   - now: the wall-clock time given to the engine.
    ///   - loadedState: the state already read from the store (at start, to refuse an unreadable file); the first
    ///     pass starts from it instead of reading the store again. `nil`: the first pass reads the store.
    public init(
        configuration: HealerConfiguration, dependencies: Dependencies, clock: C, now: @escaping @Sendable () -> Date = { Date() },
        loadedState: EngineState? = nil, passTrigger: PassTrigger = PassTrigger(), logger: Logger
    ) {
        self.passTrigger = passTrigger
        self.memory = Mutex(Memory(engine: Engine(configuration: configuration), state: loadedState))
        self.dependencies = dependencies
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    /// The last pass, if any.
    public var lastPass: PassReport? { memory.withLock { $0.report } }
    /// Slots skipped because a pass overran its interval.
    public var missedSlots: Int { memory.withLock { $0.missed } }
    /// The engine state now.
    public var currentState: EngineState? { memory.withLock { $0.state } }

    /// Replaces the configuration; incidents, budgets and other state carry over (state of removed rules is
    /// frozen until the rule comes back).
    public func reload(_ configuration: HealerConfiguration) {
        memory.withLock { $0.engine = Engine(configuration: configuration) }
        dependencies.observer?.prepare(configuration)
    }

    /// Queues an operator's command (pause, resume, release) for the start of the next pass.
    public func enqueue(_ command: OperatorCommand) {
        memory.withLock { $0.commands.append(command) }
    }

    /// Hands an alert to the next pass: it makes Healer act only if the rule's own query confirms it.
    public func hint(_ key: IncidentKey, alert: String) {
        memory.withLock { $0.alerts[key] = alert }
    }

    /// When the last pass in which Prometheus answered every query finished (rules broken by their own fault
    /// aside: see ``brokenRules``).
    public var lastSuccessfulPass: Date? { memory.withLock { $0.lastHealthyPass } }
    /// Rules whose own expression failed in the last pass (``RuleFailure/isRuleFault``), by name.
    public var brokenRules: [String: RuleFailure] { memory.withLock { $0.brokenRules } }
    /// Pools whose balancer could not be seen in the last pass (nothing in them changes), with why.
    public var unreachableBalancers: [String: String] { memory.withLock { $0.unreachable } }
    /// Why the last pass could not load or save the state (so it did nothing); `nil` when it could.
    public var stateProblem: String? { memory.withLock { $0.stateFailure } }

    /// Whether this replica leads now (asked of the elector, not the last pass): with shared state, whether it has a term.
    public func leadsNow() async -> Bool {
        dependencies.store is any SharedStateStore ? await dependencies.elector.term() != nil : await dependencies.elector.isLeader()
    }

    /// Who leads, as this replica saw it at its last pass; `nil` for a single instance (it always leads).
    public var leadership: Leadership? {
        guard !(dependencies.elector is SingleInstanceLeaderElector) else { return nil }
        return Leadership(leading: memory.withLock { $0.leading }, holder: dependencies.elector.holder)
    }

    public func run() async throws {
        let interval = engine.configuration.reconcile.interval
        var deadline = clock.now
        while !Task.isShuttingDownGracefully {
            let triggered: Bool
            do {
                // Until the slot, or until a pass is asked for now (leadership acquired): that pass is an extra one,
                // and the slot still comes.
                triggered = try await cancelWhenGracefulShutdown { [clock, deadline, passTrigger] in
                    try await withThrowingTaskGroup(of: Bool.self) { group in
                        group.addTask {
                            try await clock.sleep(until: deadline, tolerance: nil)
                            return false
                        }
                        group.addTask { await passTrigger.wait() }
                        defer { group.cancelAll() }
                        return try await group.next() ?? false
                    }
                }
            } catch {
                return  // graceful shutdown or cancellation: stop before starting a pass
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            await runPass()
            if triggered, clock.now < deadline { continue }
            let now = clock.now
            let late = deadline.duration(to: now)
            let skipped = late > interval ? Int(late / interval) : 0
            if skipped > 0 {
                memory.withLock { $0.missed += skipped }
                dependencies.observer?.missedSlots(skipped)
                logger.warning("reconcile pass overran its interval", metadata: ["missed_slots": "\(skipped)", "interval": "\(interval)"])
            }
            deadline = deadline.advanced(by: interval * (skipped + 1))
        }
    }

    /// Runs one pass now: observe, decide, save, apply, report.
    @discardableResult
    public func runPass() async -> PassReport {
        let started = clock.now
        let time = now()
        let engine = self.engine
        let seen = await observe(engine: engine, at: time)
        var decided = await decide(seen, engine: engine)
        let saved = await save(&decided, seen: seen, engine: engine)
        let results = await apply(decided, isLeader: seen.observations.isLeader, term: seen.term, saved: saved)
        return report(seen, decided, results: results, engine: engine, duration: started.duration(to: clock.now))
    }

    /// What a pass saw: every rule's answer, the balancers, leadership, and the alerts and failed steps handed
    /// over since the last pass.
    private struct Seen {
        var time: Date
        var observations: Observations
        /// The term this replica leads in, when it leads and the elector has terms.
        var term: LeaderTerm?
    }

    /// What a pass decided, and from what.
    private struct Decided {
        /// The state as loaded, and whether it can be trusted (a state that cannot be loaded is not replaced by a
        /// fresh one: Healer would forget what it did; passes decide but do nothing until the store answers).
        var loaded: EngineState
        var trusted: Bool
        /// The loaded state with the operators' commands applied: what the engine started from.
        var prior: EngineState
        var commands: [OperatorCommand]
        var outcome: Engine.Outcome
    }

    private func observe(engine: Engine, at time: Date) async -> Seen {
        let rules = await observeAll(at: time, engine: engine)
        logQueryFailures(rules)
        let view = await dependencies.balancer?.observe() ?? BalancerObservation()
        logBalancer(view)
        memory.withLock { $0.unreachable = view.unreachable }
        // With shared state, leading is having a term (one reading: a term and a separate "no" cannot disagree).
        let shared = dependencies.store is any SharedStateStore
        let term = shared ? await dependencies.elector.term() : nil
        let isLeader = shared ? term != nil : await dependencies.elector.isLeader()
        memory.withLock { $0.leading = isLeader }
        let (hints, failed) = memory.withLock { memory in
            defer {
                memory.alerts = [:]
                memory.failedSteps = [:]
            }
            return (memory.alerts, memory.failedSteps)
        }
        var observations = Observations(
            isLeader: isLeader, rules: rules, inventory: view.inventory, sessions: view.sessions, unreachableBalancers: view.unreachable,
            alerts: hints)
        observations.balancerStates = view.current
        observations.down = view.down
        observations.failedSteps = failed
        return Seen(time: time, observations: observations, term: term)
    }

    private func decide(_ seen: Seen, engine: Engine) async -> Decided {
        let (loaded, trusted, transitions) = await loadedState(engine: engine, seen: seen)
        let commands = memory.withLock { memory in
            defer { memory.commands = [] }
            return memory.commands
        }
        var prior = loaded
        var commandRecords: [DecisionRecord] = []
        for command in commands {
            let (next, records) = engine.apply(command, to: prior, now: seen.time)
            prior = next
            commandRecords += records
        }
        var outcome = engine.reconcile(state: prior, observations: seen.observations, now: seen.time)
        outcome.records = transitions + commandRecords + outcome.records
        return Decided(loaded: loaded, trusted: trusted, prior: prior, commands: commands, outcome: outcome)
    }

    /// Intent before action: the state that says what this pass does is saved before anything is done, so a
    /// controller killed mid-action restarts knowing it. When it cannot be saved, nothing new is done, the state
    /// stays as it was and the operators' commands and failed steps wait for the next pass; what was saved before
    /// is still re-asserted (a balancer restarted meanwhile gets its remedies back: that needs no new intent), not
    /// what a queued command changes, and nothing at all once the state file is lost (another Healer may own it).
    /// Returns whether the state was saved (or there is no store): only then may anything new be done.
    private func save(_ decided: inout Decided, seen: Seen, engine: Engine) async -> Bool {
        var unsaved: DecisionReason?
        var lost = false
        if !decided.trusted {
            unsaved = .stateUnreadable
        } else if let store = dependencies.store, !(store is any SharedStateStore && seen.term == nil) {  // followers never write it
            do {
                try await store.save(decided.outcome.state, appending: decided.outcome.records)
            } catch {
                lost = (error as? any StateStoreFailure)?.meansStateLost ?? false
                // Deposed: the next pass that leads takes the shared state over again (and is refused if deposed).
                if lost, store is any SharedStateStore { memory.withLock { $0.fencedTerm = nil } }
                memory.withLock { $0.stateFailure = "cannot be saved, so passes do nothing: \(error)" }
                logger.error("cannot save the state: nothing is done this pass", metadata: ["error": "\(error)"])
                unsaved = .stateUnsaved(detail: "\(error)")
            }
        }
        if let unsaved {
            memory.withLock { memory in
                memory.commands = decided.commands + memory.commands
                memory.failedSteps.merge(seen.observations.failedSteps) { current, _ in current }
                memory.alerts.merge(seen.observations.alerts) { current, _ in current }
            }
            decided.outcome.records.append(DecisionRecord(time: seen.time, kind: .pool, pool: "*", because: unsaved))
        } else {
            memory.withLock { memory in
                memory.state = decided.outcome.state
                memory.stateFailure = nil
            }
        }
        dependencies.journal.append(decided.outcome.records)
        for record in decided.outcome.records { logger.info("\(record.reason)", metadata: record.logMetadata) }
        if unsaved != nil {
            var reasserted: [TargetID: DesiredServerState] = [:]
            if decided.trusted, !lost {
                let wanted = engine.desiredBalancerState(of: decided.prior)
                reasserted = engine.desiredBalancerState(of: decided.loaded).filter { wanted[$0.key] == $0.value }
            }
            decided.outcome.plan = Plan(desired: reasserted, simulated: decided.outcome.plan.simulated)
        }
        return unsaved == nil
    }

    /// The desired balancer state is applied as a diff every pass (it re-asserts what a reload undid): each change
    /// of the plan gets its server's answer. Then the actuators run: a failed restart is handed to the next pass,
    /// which tries it again while the server is unhealthy.
    ///
    /// Leadership is checked again right before each write to the balancer and each actuator run (by the elector's
    /// monotonic clock): a leader paused past its lease acts on nothing when it resumes.
    private func apply(_ decided: Decided, isLeader: Bool, term: LeaderTerm?, saved: Bool) async -> EffectResults {
        let plan = decided.outcome.plan
        let stillLeads = { await self.stillLeads(term: term) }
        let lost = ActionOutcome.failed(.notLeader, detail: "leadership lost before the write: nothing done")
        var applied: [TargetID: ActionOutcome] = [:]
        // New servers come into service only when the state is saved: bringing one in is something new.
        if let balancer = dependencies.balancer, isLeader, saved, await stillLeads() {
            for (target, result) in await balancer.admitNewServers().sorted(by: { $0.key < $1.key }) {
                logger.log(
                    level: result.result.failed ? .error : .notice, "balancer \(result.result.failed ? "could not admit" : "admitted") \(target)",
                    metadata: ["pool": "\(target.pool)", "server": "\(target.server)", "detail": "\(result.detail)"])
            }
        }
        if let balancer = dependencies.balancer, isLeader, !plan.desired.isEmpty {
            applied = await stillLeads() ? await balancer.apply(plan.desired) : plan.desired.mapValues { _ in lost }
            let changed = Set(plan.changes.filter { !$0.dryRun }.map(\.key.target))
            for (target, result) in applied.sorted(by: { $0.key < $1.key }) where result.result != .unchanged {
                guard result.result.failed || !changed.contains(target) else { continue }  // a change is logged below
                logger.log(
                    level: result.result.failed ? .error : .notice,
                    "balancer \(result.result.failed ? "write failed" : "re-asserted") \(target)",
                    metadata: ["pool": "\(target.pool)", "server": "\(target.server)", "detail": "\(result.detail)"])
            }
        }
        var results = EffectResults()
        for change in plan.changes {
            let target = change.key.target
            let result =
                change.dryRun
                ? ActionOutcome(.dryRun, detail: "would \(change.action) \(target) (dry-run)")
                : applied[target] ?? .failed(.noBalancer, detail: "no balancer drives pool \(target.pool)")
            results.changes.append((change, result))
            log(change.key, name: change.action.name, "\(change.action) \(target)", result, step: change.step)
        }
        for call in plan.calls {
            let result: ActionOutcome
            if call.dryRun {
                result = ActionOutcome(.dryRun, detail: "would \(call)")
            } else {
                result = await stillLeads() ? await dependencies.actuator.execute(call) : lost
            }
            results.calls.append((call, result))
            // A refusal fails the same way every time: not worth trying again. A step skipped for lost leadership is
            // handed over too: only a pass that leads acts on it.
            if case .restart = call.action, result.result == .failure {
                let refused = result.failure == .disruptionBudget
                memory.withLock { $0.failedSteps[call.key] = FailedStep(step: call.step, detail: result.detail, refusedForNow: refused) }
            }
            log(call.key, name: call.purpose, "\(call.purpose) \(call.actuator) \(call.key.target)", result, step: call.step)
        }
        if let balancer = dependencies.balancer, isLeader, saved, await stillLeads() {
            await balancer.note(decided.outcome.records.filter { !$0.dryRun })
        }
        return results
    }

    /// Whether this replica still leads, right before an effect: by the elector's monotonic clock, and with shared
    /// state in the very term the pass saved under (a replica deposed and elected again meanwhile does not finish a
    /// pass of its old term: another leader may have acted since).
    private func stillLeads(term: LeaderTerm?) async -> Bool {
        guard dependencies.store is any SharedStateStore else { return await dependencies.elector.isLeader() }
        guard let term else { return false }
        return await dependencies.elector.term() == term
    }

    /// Logs what came of an effect: `name` as in `healer_actions_total{action}`, `text` what was done.
    private func log(_ key: IncidentKey, name: String, _ text: String, _ result: ActionOutcome, step: Int?) {
        var metadata: Logger.Metadata = [
            "pool": "\(key.target.pool)", "server": "\(key.target.server)", "rule": "\(key.rule)", "action": "\(name)",
            "result": "\(result.result.rawValue)", "detail": "\(result.detail)",
        ]
        if let step { metadata["step"] = "\(step + 1)" }
        if let failure = result.failure { metadata["failure"] = "\(failure.rawValue)" }
        logger.log(level: result.result.failed ? .error : .info, "\(result.result == .dryRun ? "dry-run" : "action") \(text)", metadata: metadata)
    }

    /// Readiness, the metrics and the report of the pass.
    private func report(
        _ seen: Seen, _ decided: Decided, results: EffectResults, engine: Engine, duration: Duration
    ) -> PassReport {
        let pass = PassReport(time: seen.time, duration: duration, outcome: decided.outcome, results: results)
        let rules = Self.allRules(engine)
        let failures = seen.observations.rules.compactMapValues(\.failure)
        let failed = Set(rules.filter { failures[$0.name] != nil }.map(\.expression)).count
        let unanswered = Set(rules.filter { failures[$0.name].map { !$0.isRuleFault } ?? false }.map(\.expression)).count
        let broken = failures.filter(\.value.isRuleFault)
        // Healthy: Prometheus answered every query, and at least one rule works (with every rule wrong, Healer
        // protects nothing and must not look as if it did). Readiness and the metric both follow this.
        let healthy = failures.count == broken.count && (broken.count < rules.count || rules.isEmpty)
        memory.withLock { memory in
            if healthy { memory.lastHealthyPass = seen.time }
            memory.brokenRules = broken
            memory.report = pass
        }
        dependencies.observer?.passFinished(
            outcome: decided.outcome, results: results, duration: duration, failedQueries: failed, unansweredQueries: unanswered,
            healthy: healthy, totalQueries: Set(rules.map(\.expression)).count, ruleFailures: failures, time: seen.time,
            isLeader: seen.observations.isLeader, current: seen.observations.balancerStates)
        return pass
    }

    private func logQueryFailures(_ observations: [String: RuleObservation]) {
        var changes: [(rule: String, failure: String?)] = []
        memory.withLock { memory in
            for (rule, observation) in observations.sorted(by: { $0.key < $1.key }) {
                var failure = observation.failure?.description
                if failure == nil, !observation.warnings.isEmpty { failure = "warnings: " + observation.warnings.joined(separator: "; ") }
                if memory.queryFailures[rule] != failure {
                    memory.queryFailures[rule] = failure
                    changes.append((rule, failure))
                }
            }
        }
        for change in changes {
            if let failure = change.failure {
                logger.warning("rule cannot be evaluated: its verdicts are unknown", metadata: ["rule": "\(change.rule)", "error": "\(failure)"])
            } else {
                logger.info("rule query answers again", metadata: ["rule": "\(change.rule)"])
            }
        }
    }

    private func logBalancer(_ view: BalancerObservation) {
        if view.reloaded { logger.warning("the balancer was reloaded: every managed server is re-asserted this pass") }
        let changes = memory.withLock { memory -> [(String, String?)] in
            var changes: [(String, String?)] = []
            for pool in Set(memory.balancerFailures.keys).union(view.unreachable.keys).sorted()
            where memory.balancerFailures[pool] != view.unreachable[pool] {
                changes.append((pool, view.unreachable[pool]))
                memory.balancerFailures[pool] = view.unreachable[pool]
            }
            return changes
        }
        for (pool, reason) in changes {
            if let reason {
                logger.error(
                    "balancer unreachable: nothing in the pool changes until it is back", metadata: ["pool": "\(pool)", "error": "\(reason)"])
            } else {
                logger.notice("balancer reachable again", metadata: ["pool": "\(pool)"])
            }
        }
    }

    /// The state to start the pass from, whether it can be trusted (it is the last one saved, or there is no
    /// store), and the records of a change of leader. A load failure gives a fresh state that is not trusted: the
    /// pass must not act on it.
    ///
    /// With shared state a follower reads the leader's state every pass (its views show the leader's incidents)
    /// and never writes it; a replica that starts leading takes the state over (fencing it with its term) before its
    /// first pass that could act, and resumes the incidents in force; while it leads it is the only writer, so its
    /// own last save is the state.
    private func loadedState(engine: Engine, seen: Seen) async -> (EngineState, trusted: Bool, transitions: [DecisionRecord]) {
        let fresh = EngineState(maxActionsPerMinute: engine.configuration.safety.maxActionsPerMinute)
        if let shared = dependencies.store as? any SharedStateStore {
            return await sharedState(shared, fresh: fresh, seen: seen)
        }
        if let current = memory.withLock({ $0.state }) { return (current, true, []) }
        guard let store = dependencies.store else { return (fresh, true, []) }
        return await read(fresh: fresh, transitions: []) { try await store.load() }
    }

    private func sharedState(
        _ store: any SharedStateStore, fresh: EngineState, seen: Seen
    ) async -> (EngineState, trusted: Bool, transitions: [DecisionRecord]) {
        guard let term = seen.term else {
            var transitions: [DecisionRecord] = []
            let steppedDown = memory.withLock { memory in
                defer { (memory.fencedTerm, memory.tookOver) = (nil, false) }
                return memory.tookOver
            }
            if steppedDown {
                transitions.append(
                    DecisionRecord(time: seen.time, kind: .pool, pool: "*", because: .leaderStepDown(holder: dependencies.elector.holder)))
            }
            return await read(fresh: fresh, transitions: transitions) { try await store.load() }
        }
        let (fenced, cached) = memory.withLock { ($0.fencedTerm, $0.state) }
        if fenced == term, let cached { return (cached, true, []) }
        // No state stored (the first leader ever, or the object was deleted): resume what this replica last knew.
        let taken = await read(fresh: cached ?? fresh, transitions: []) { try await store.takeOver(term) }
        guard taken.trusted else { return taken }
        // The state taken over is the state from now on, even if this pass cannot save it.
        memory.withLock { ($0.fencedTerm, $0.tookOver, $0.state) = (term, true, taken.0) }
        let record = DecisionRecord(
            time: seen.time, kind: .pool, pool: "*",
            because: .leaderTookOver(epoch: term.epoch, holder: term.holder, incidents: taken.0.incidents.count))
        logger.notice("\(record.reason)", metadata: ["epoch": "\(term.epoch)", "incidents": "\(taken.0.incidents.count)"])
        return (taken.0, true, [record])
    }

    private func read(
        fresh: EngineState, transitions: [DecisionRecord], _ load: () async throws -> EngineState?
    ) async -> (EngineState, trusted: Bool, transitions: [DecisionRecord]) {
        do {
            return (try await load() ?? fresh, true, transitions)
        } catch {
            logger.error("cannot load the state: nothing is done until it can be read", metadata: ["error": "\(error)"])
            memory.withLock { $0.stateFailure = "cannot be read, so passes do nothing: \(error)" }
            return (fresh, false, transitions)
        }
    }

    /// Every rule's name, expression and pool: recovery, weight and scale rules.
    private static func allRules(_ engine: Engine) -> [(name: String, expression: String, pool: String)] {
        engine.configuration.groups.flatMap { group in
            group.rules.map { ($0.name, $0.expression, group.pool) } + group.weights.map { ($0.name, $0.expression, group.pool) }
                + group.scale.map { ($0.name, $0.expression, group.pool) }
        }
    }

    /// One query to run: its text, the labels to keep, and whether it is a freshness query.
    private struct Query: Sendable {
        var text: String
        var labels: Set<String>
        var isFreshness: Bool
    }

    /// Runs every distinct rule expression, and each pool's freshness check, once, at most `query_concurrency` at a
    /// time, keeping only the labels the pools' target templates read (the engine reads series through them and
    /// nothing else).
    ///
    /// Each rule's part of its pool's freshness answer joins its observation as ``RuleObservation/staleInputs``.
    /// When a pool's combined freshness query fails because a clause is wrong, each rule's own freshness query is
    /// asked instead, so that the failure stays with the rule it belongs to. A rule whose freshness query fails fails
    /// the same way: data whose age cannot be told is not trusted.
    private func observeAll(at time: Date, engine: Engine) async -> [String: RuleObservation] {
        let rules = Self.allRules(engine)
        var labelsByExpression: [String: Set<String>] = [:]
        for rule in rules {
            labelsByExpression[rule.expression, default: []].formUnion(engine.configuration.pools[rule.pool]?.labelsRead ?? [])
        }
        var queries = labelsByExpression.map { Query(text: $0.key, labels: $0.value, isFreshness: false) }
        queries += engine.freshnessChecks.map { Query(text: $0.query, labels: $0.labels, isFreshness: true) }
        let answers = await run(queries, at: time, limit: engine.configuration.reconcile.queryConcurrency)

        // Per recovery rule: its part of the freshness answer, or why there is none.
        var freshness: [String: RuleObservation] = [:]
        var isolate: [Query] = []
        for check in engine.freshnessChecks {
            let answer = answers[check.query] ?? .failed(.noAnswer, "no answer this pass")
            switch answer.outcome {
            case .series(let samples):
                for (rule, stale) in check.split(samples) { freshness[rule] = .series(stale, warnings: answer.warnings, at: answer.evaluatedAt) }
            case .failed(let failure) where failure.isRuleFault:
                isolate += check.queries.values.map { Query(text: $0, labels: check.labels, isFreshness: true) }
            case .failed:
                for rule in check.rules { freshness[rule] = answer }
            }
        }
        let isolated = isolate.isEmpty ? [:] : await run(isolate, at: time, limit: engine.configuration.reconcile.queryConcurrency)

        var byRule: [String: RuleObservation] = [:]
        for rule in rules {
            guard var observation = answers[rule.expression] else { continue }
            let query = engine.freshnessChecks.first { $0.pool == rule.pool }?.queries[rule.name]
            if observation.failure == nil, let query, let answer = freshness[rule.name] ?? isolated[query] {
                switch answer.outcome {
                case .series(let stale):
                    observation.staleInputs = stale
                    observation.warnings += answer.warnings  // a partial freshness answer may miss stale servers
                case .failed(let failure):
                    observation = .failed(failure.reason, "its freshness query `\(query)` failed: \(failure.message)")
                }
            }
            byRule[rule.name] = observation
        }
        return byRule
    }

    /// Runs `queries`, at most `limit` at a time, and returns the answers by query text.
    private func run(_ queries: [Query], at time: Date, limit: Int) async -> [String: RuleObservation] {
        let metrics = dependencies.metrics
        let observer = dependencies.observer
        let clock = ContinuousClock()
        @Sendable func observe(_ query: Query) async -> (String, RuleObservation) {
            let started = clock.now
            let observation =
                query.isFreshness
                ? await metrics.observeFreshness(query.text, at: time, keepingLabels: query.labels)
                : await metrics.observe(query.text, at: time, keepingLabels: query.labels)
            observer?.queryFinished(duration: started.duration(to: clock.now))
            return (query.text, observation)
        }
        var answers: [String: RuleObservation] = [:]
        await withTaskGroup(of: (String, RuleObservation).self) { group in
            var pending = queries.sorted { $0.text < $1.text }.makeIterator()
            for _ in 0..<max(1, limit) {
                guard let query = pending.next() else { break }
                group.addTask { await observe(query) }
            }
            while let (text, observation) = await group.next() {
                answers[text] = observation
                if let next = pending.next() { group.addTask { await observe(next) } }
            }
        }
        return answers
    }
}

extension DecisionRecord {
    /// The record's fields as log metadata.
    public var logMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["kind": "\(kind.rawValue)", "pool": "\(pool)"]
        if let code { metadata["code"] = "\(code.rawValue)" }
        if let rule { metadata["rule"] = "\(rule)" }
        if let server { metadata["server"] = "\(server)" }
        if let verdict { metadata["verdict"] = "\(verdict.rawValue)" }
        if let value { metadata["value"] = "\(value)" }
        if let sampleTime { metadata["sample_time"] = "\(sampleTime.timeIntervalSince1970)" }
        if let phase { metadata["phase"] = "\(phase.rawValue)" }
        if let step { metadata["step"] = "\(step + 1)" }
        if let action { metadata["action"] = "\(action)" }
        if !gatesPassed.isEmpty { metadata["gates_passed"] = "\(gatesPassed.map(\.rawValue).joined(separator: ","))" }
        if let suppressedBy { metadata["suppressed_by"] = "\(suppressedBy.rawValue)" }
        if dryRun { metadata["dry_run"] = "true" }
        return metadata
    }
}
