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
        /// Each action with what came of it.
        public var results: [(action: PlannedAction, outcome: ActionOutcome)]
    }

    private let engineBox: Mutex<Engine>
    /// The engine of the configuration in force (a reload replaces it; state is kept).
    public var engine: Engine { engineBox.withLock { $0 } }
    /// Commands from the admin API, applied to the state at the start of the next pass.
    private let commands = Mutex<[@Sendable (Engine, inout EngineState, Date) -> [DecisionRecord]]>([])
    /// Alerts waiting for the next pass, by incident key.
    private let alerts = Mutex<[IncidentKey: String]>([:])
    /// When the last pass in which Prometheus answered every query ended, for readiness (a rule whose own
    /// expression is wrong does not count against it).
    private let lastHealthyPass = Mutex<Date?>(nil)
    /// Rules that could not be evaluated in the last pass through their own fault, by name.
    private let brokenRulesBox = Mutex<[String: RuleFailure]>([:])
    /// Pools whose balancer could not be seen in the last pass, with why.
    private let unreachableBox = Mutex<[String: String]>([:])
    /// Ladder steps whose actuator failed in the last pass, for the next one: they are not in force.
    private let failedSteps = Mutex<[IncidentKey: FailedStep]>([:])
    /// Why the last pass could not load or save the state; `nil` when it could.
    private let stateFailure = Mutex<String?>(nil)
    private let dependencies: Dependencies
    private let clock: C
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let state: Mutex<EngineState?> = Mutex(nil)
    private let report = Mutex<PassReport?>(nil)
    private let missed = Atomic<Int>(0)
    /// The last failure logged per expression, to log each failure once, and its end.
    private let queryFailures = Mutex<[String: String]>([:])
    /// The last unreachable-balancer reason logged per pool.
    private let balancerFailures = Mutex<[String: String]>([:])

    /// Creates the loop.
    ///
    /// - Parameters:
    ///   - clock: schedules passes (a manual clock in tests).
    ///   - now: the wall-clock time given to the engine.
    public init(
        configuration: HealerConfiguration, dependencies: Dependencies, clock: C, now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.engineBox = Mutex(Engine(configuration: configuration))
        self.dependencies = dependencies
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    /// The last pass, if any.
    public var lastPass: PassReport? { report.withLock { $0 } }
    /// Slots skipped because a pass overran its interval.
    public var missedSlots: Int { missed.load(ordering: .relaxed) }
    /// The engine state now.
    public var currentState: EngineState? { state.withLock { $0 } }

    /// Replaces the configuration; incidents, budgets and other state carry over (state of removed rules is
    /// frozen until the rule comes back).
    public func reload(_ configuration: HealerConfiguration) {
        engineBox.withLock { $0 = Engine(configuration: configuration) }
        dependencies.observer?.prepare(configuration)
    }

    /// Queues a change to the engine state (pause, resume, release) for the start of the next pass.
    public func enqueue(_ command: @escaping @Sendable (Engine, inout EngineState, Date) -> [DecisionRecord]) {
        commands.withLock { $0.append(command) }
    }

    /// Hands an alert to the next pass: it makes Healer act only if the rule's own query confirms it.
    public func hint(_ key: IncidentKey, alert: String) {
        alerts.withLock { $0[key] = alert }
    }

    /// When the last pass in which Prometheus answered every query finished (rules broken by their own fault
    /// aside: see ``brokenRules``).
    public var lastSuccessfulPass: Date? { lastHealthyPass.withLock { $0 } }
    /// Rules whose own expression failed in the last pass (``RuleFailure/isRuleFault``), by name.
    public var brokenRules: [String: RuleFailure] { brokenRulesBox.withLock { $0 } }
    /// Pools whose balancer could not be seen in the last pass (nothing in them changes), with why.
    public var unreachableBalancers: [String: String] { unreachableBox.withLock { $0 } }
    /// Why the last pass could not load or save the state (so it did nothing); `nil` when it could.
    public var stateProblem: String? { stateFailure.withLock { $0 } }

    public func run() async throws {
        let interval = engine.configuration.reconcile.interval
        var deadline = clock.now
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [clock, deadline] in try await clock.sleep(until: deadline, tolerance: nil) }
            } catch {
                return  // graceful shutdown or cancellation: stop before starting a pass
            }
            if Task.isCancelled { return }
            await runPass()
            let now = clock.now
            let late = deadline.duration(to: now)
            let skipped = late > interval ? Int(late / interval) : 0
            if skipped > 0 {
                missed.add(skipped, ordering: .relaxed)
                dependencies.observer?.missedSlots(skipped)
                logger.warning("reconcile pass overran its interval", metadata: ["missed_slots": "\(skipped)", "interval": "\(interval)"])
            }
            deadline = deadline.advanced(by: interval * (skipped + 1))
        }
    }

    /// Runs one pass now: query, decide, act, save.
    @discardableResult
    public func runPass() async -> PassReport {
        let started = clock.now
        let time = now()
        let engine = self.engine
        let observations = await observeAll(at: time, engine: engine)
        logQueryFailures(observations)
        let view = await dependencies.balancer?.observe() ?? BalancerObservation()
        logBalancer(view)
        unreachableBox.withLock { $0 = view.unreachable }
        let isLeader = await dependencies.elector.isLeader()
        // A state that cannot be loaded is not replaced by a fresh one: Healer would forget what it did. Passes
        // decide but do nothing until the store answers.
        let (loaded, trusted) = await loadedState(engine: engine)
        var prior = loaded
        let queued = commands.withLock { commands in
            defer { commands = [] }
            return commands
        }
        var commandRecords: [DecisionRecord] = []
        for command in queued {
            commandRecords += command(engine, &prior, time)
        }
        let hints = alerts.withLock { alerts in
            defer { alerts = [:] }; return alerts
        }
        var seen = Observations(
            isLeader: isLeader, rules: observations, inventory: view.inventory, sessions: view.sessions, unreachableBalancers: view.unreachable,
            alerts: hints)
        seen.balancerStates = view.current
        seen.down = view.down
        let failedBefore = failedSteps.withLock { failed in
            defer { failed = [:] }
            return failed
        }
        seen.failedSteps = failedBefore
        var outcome = engine.reconcile(state: prior, observations: seen, now: time)
        outcome.records = commandRecords + outcome.records
        // Intent before action: the state that says what this pass does is saved before anything is done, so a
        // controller killed mid-action restarts knowing it. When it cannot be saved, nothing is done, the state
        // stays as it was and the operators' commands wait for the next pass.
        var unsaved: String?
        var lost = false
        if !trusted {
            unsaved = "the saved state could not be read, so nothing was done this pass"
        } else if let store = dependencies.store {
            do {
                try await store.save(outcome.state, appending: outcome.records)
            } catch {
                lost = (error as? any StateStoreFailure)?.meansStateLost ?? false
                stateFailure.withLock { $0 = "cannot be saved, so passes do nothing: \(error)" }
                logger.error("cannot save the state: nothing is done this pass", metadata: ["error": "\(error)"])
                unsaved = "the state could not be saved, so nothing was done this pass (intent is saved before action): \(error)"
            }
        }
        let saved = unsaved == nil
        if let unsaved {
            commands.withLock { $0 = queued + $0 }
            failedSteps.withLock { $0.merge(failedBefore) { current, _ in current } }
            outcome.records.append(DecisionRecord(time: time, kind: .pool, pool: "*", reason: unsaved))
        } else {
            state.withLock { $0 = outcome.state }
            stateFailure.withLock { $0 = nil }
        }
        dependencies.journal.append(outcome.records)
        for record in outcome.records { logger.info("\(record.reason)", metadata: record.logMetadata) }
        // A pass that cannot save does nothing new; what was saved before is still re-asserted (a balancer restarted
        // meanwhile gets its remedies back): that needs no new intent. Not what an operator's queued command (a
        // release, a pause) changes, and nothing at all once the state file is lost: another Healer may own the path.
        if !saved {
            var reasserted: [TargetID: DesiredServerState] = [:]
            if trusted, !lost {
                let wanted = engine.desiredBalancerState(of: prior)
                reasserted = engine.desiredBalancerState(of: loaded).filter { wanted[$0.key] == $0.value }
            }
            outcome.plan = Plan(actions: [], desired: reasserted, simulated: outcome.plan.simulated)
        }

        // The desired balancer state is applied as a diff every pass: it re-asserts what a reload undid.
        var applied: [TargetID: ActionOutcome] = [:]
        if let balancer = dependencies.balancer, isLeader, !outcome.plan.desired.isEmpty {
            applied = await balancer.apply(outcome.plan.desired)
            for (target, result) in applied.sorted(by: { $0.key < $1.key }) where !result.detail.hasPrefix("already") {
                let planned = outcome.plan.actions.contains { $0.key.target == target && !$0.dryRun }
                if result.result == .failure || !planned {
                    logger.log(
                        level: result.result == .failure ? .error : .notice,
                        "balancer \(result.result == .failure ? "write failed" : "re-asserted") \(target)",
                        metadata: ["pool": "\(target.pool)", "server": "\(target.server)", "detail": "\(result.detail)"])
                }
            }
        }

        var results: [(PlannedAction, ActionOutcome)] = []
        for action in outcome.plan.actions {
            let result: ActionOutcome
            switch action.kind {
            case _ where action.dryRun:
                result = ActionOutcome(.dryRun, detail: "would \(action)")
            case .setWeight, .setState:
                result = applied[action.key.target] ?? ActionOutcome(.failure, detail: "no balancer drives pool \(action.key.target.pool)")
            case .run, .notify:
                result = await dependencies.actuator.execute(action)
            }
            results.append((action, result))
            // A refusal (a value that would read as an option, a shell script with placeholders) fails the same way
            // every time: not worth trying again.
            if case .run = action.kind, result.result == .failure, let step = action.step, !result.detail.hasPrefix("refused:") {
                failedSteps.withLock { $0[action.key] = FailedStep(step: step, detail: result.detail) }
            }
            let level: Logger.Level = result.result == .failure ? .error : .info
            logger.log(
                level: level, "\(result.result == .dryRun ? "dry-run" : "action") \(action)",
                metadata: [
                    "pool": "\(action.key.target.pool)", "server": "\(action.key.target.server)", "rule": "\(action.key.rule)",
                    "action": "\(action.kind.name)", "result": "\(result.result.rawValue)", "detail": "\(result.detail)",
                ])
        }
        let pass = PassReport(time: time, duration: started.duration(to: clock.now), outcome: outcome, results: results)
        let rules = Self.allRules(engine)
        let failures = observations.compactMapValues(\.failure)
        let failed = Set(rules.filter { failures[$0.name] != nil }.map(\.expression)).count
        let unanswered = Set(rules.filter { failures[$0.name].map { !$0.isRuleFault } ?? false }.map(\.expression)).count
        let broken = failures.filter(\.value.isRuleFault)
        // Healthy: Prometheus answered every query, and at least one rule works (with every rule wrong, Healer
        // protects nothing and must not look as if it did). Readiness and the metric both follow this.
        let healthy = failures.count == broken.count && (broken.count < rules.count || rules.isEmpty)
        if healthy { lastHealthyPass.withLock { $0 = time } }
        brokenRulesBox.withLock { $0 = broken }
        dependencies.observer?.passFinished(
            outcome: outcome, results: results, duration: pass.duration, failedQueries: failed, unansweredQueries: unanswered, healthy: healthy,
            totalQueries: Set(rules.map(\.expression)).count,
            ruleFailures: failures, time: time, isLeader: isLeader, current: view.current)
        report.withLock { $0 = pass }
        return pass
    }

    private func logQueryFailures(_ observations: [String: RuleObservation]) {
        var changes: [(rule: String, failure: String?)] = []
        queryFailures.withLock { failures in
            for (rule, observation) in observations.sorted(by: { $0.key < $1.key }) {
                var failure = observation.failure?.description
                if failure == nil, !observation.warnings.isEmpty { failure = "warnings: " + observation.warnings.joined(separator: "; ") }
                if failures[rule] != failure {
                    failures[rule] = failure
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
        let changes = balancerFailures.withLock { failures -> [(String, String?)] in
            var changes: [(String, String?)] = []
            for pool in Set(failures.keys).union(view.unreachable.keys).sorted() where failures[pool] != view.unreachable[pool] {
                changes.append((pool, view.unreachable[pool]))
                failures[pool] = view.unreachable[pool]
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

    /// The state to start the pass from, and whether it can be trusted (it is the last one saved, or there is
    /// no store). A load failure gives a fresh state that is not trusted: the pass must not act on it.
    private func loadedState(engine: Engine) async -> (EngineState, trusted: Bool) {
        if let current = state.withLock({ $0 }) { return (current, true) }
        let fresh = EngineState(maxActionsPerMinute: engine.configuration.safety.maxActionsPerMinute)
        guard let store = dependencies.store else { return (fresh, true) }
        do {
            return (try await store.load() ?? fresh, true)
        } catch {
            logger.error("cannot load the state: nothing is done until it can be read", metadata: ["error": "\(error)"])
            stateFailure.withLock { $0 = "cannot be read, so passes do nothing: \(error)" }
            return (fresh, false)
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
