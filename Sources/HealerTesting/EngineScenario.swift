public import Foundation
public import HealerCore
import SeriesLabels

/// Drives the pure engine through a scenario pass by pass, with explicit times and values, the way the
/// shell would: one test line per pass.
public struct EngineScenario {
    /// The engine under test.
    public let engine: Engine
    /// The state after the last pass.
    public var state: EngineState
    /// The outcome of the last pass.
    public private(set) var last: Engine.Outcome?
    /// Every record of every pass so far.
    public private(set) var records: [DecisionRecord] = []
    /// Every balancer change of every pass so far, with its time.
    public private(set) var changes: [(time: Date, change: BalancerChange)] = []
    /// Every actuator call of every pass so far, with its time.
    public private(set) var calls: [(time: Date, call: ActuatorCall)] = []
    /// Time zero of the scenario.
    public let start: Date

    /// Creates a scenario for `configuration`.
    public init(_ configuration: HealerConfiguration, start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        engine = Engine(configuration: configuration)
        state = EngineState(maxActionsPerMinute: configuration.safety.maxActionsPerMinute)
        self.start = start
    }

    /// Runs one pass at `start + seconds`, with each rule's series given as server → value (`nil`: no series).
    /// Rules in `failing` fail as if Prometheus could not answer, those in `broken` as if their expression were
    /// malformed; `staleInputs` gives, per rule, the servers its freshness answer names with the age in seconds
    /// of their newest input sample.
    @discardableResult
    public mutating func pass(
        at seconds: Double, _ values: [String: [String: Double?]], isLeader: Bool = true, warnings: [String] = [],
        failing: Set<String> = [], broken: Set<String> = [], staleInputs: [String: [String: Double]] = [:],
        failedSteps: [IncidentKey: FailedStep] = [:], inventory: [String: [ServerInfo]] = [:],
        alerts: [IncidentKey: String] = [:]
    ) -> Engine.Outcome {
        let now = start.addingTimeInterval(seconds)
        var rules: [String: RuleObservation] = [:]
        for (rule, series) in values {
            if failing.contains(rule) {
                rules[rule] = .failed(.unavailable, "injected failure")
                continue
            }
            if broken.contains(rule) {
                rules[rule] = .failed(.badData, "injected parse error")
                continue
            }
            let samples = series.sorted { $0.key < $1.key }.compactMap { server, value in
                value.map { SeriesSample(labels: ["server": server], value: $0) }
            }
            rules[rule] = .series(samples, warnings: warnings, at: now)
            if let stale = staleInputs[rule] {
                rules[rule]?.staleInputs = stale.sorted { $0.key < $1.key }.map { server, age in
                    SeriesSample(labels: ["server": server], value: now.timeIntervalSince1970 - age)
                }
            }
        }
        for rule in failing where rules[rule] == nil { rules[rule] = .failed(.unavailable, "injected failure") }
        for rule in broken where rules[rule] == nil { rules[rule] = .failed(.badData, "injected parse error") }
        var observations = Observations(isLeader: isLeader, rules: rules, inventory: inventory, alerts: alerts)
        observations.failedSteps = failedSteps
        let outcome = engine.reconcile(state: state, observations: observations, now: now)
        state = outcome.state
        last = outcome
        records += outcome.records
        changes += outcome.plan.changes.map { (now, $0) }
        calls += outcome.plan.calls.map { (now, $0) }
        return outcome
    }

    /// The open incident of `rule` on `server` of `pool`.
    public func incident(_ rule: String, _ server: String, pool: String = "web") -> Incident? {
        state.incidents[IncidentKey(rule: rule, target: TargetID(pool: pool, server: server))]
    }
}

extension HealerConfiguration {
    /// A pool `web` of `servers` (weight 100 each) with one rule `errors` over `error_ratio` (unhealthy > 0.05,
    /// healthy < 0.01), and the given ladder and timings; safety settings are permissive unless given.
    public static func fixture(
        servers: [String] = ["s1", "s2", "s3"], spares: [String] = [], ladder: [LadderStep]? = nil, pendingFor: Duration = .seconds(4),
        clearFor: Duration = .seconds(20), rampStep: Duration = .seconds(10), noData: NoDataPolicy = .unknown,
        budget: Budget = Budget(maxAttempts: 10, window: .seconds(3600)), floor: Double = 0.5, maxInFlight: Int = 1,
        dryRun: Bool = false, safety: SafetySettings? = nil
    ) -> HealerConfiguration {
        let ladder =
            ladder ?? [
                LadderStep(.setWeight(percent: 25), verify: .seconds(10)),
                LadderStep(.drain(waitSessions: .seconds(30)), verify: .seconds(15)),
                LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(60)),
                LadderStep(.quarantine(notify: "oncall", releaseAfter: nil)),
            ]
        let rule = RecoveryRule(
            name: "errors", pool: "web", expression: "error_ratio", unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
            pendingFor: pendingFor, clearFor: clearFor, noData: noData, dryRun: dryRun, rampStep: rampStep, ladder: ladder, budget: budget)
        var settings = SafetySettings()
        settings.maxActionsPerMinute = 100
        settings.targetCooldown = .zero
        settings.stormMaxUnhealthy = 1
        settings.stormCooldown = .seconds(60)
        return HealerConfiguration(
            balancers: ["edge": .haproxy(runtimeAPI: "tcp://127.0.0.1:9999")],
            actuators: [
                "restart-backend": .exec(command: ["true"], timeout: .seconds(5)),
                "oncall": .webhook(url: "http://127.0.0.1:1/", timeout: .seconds(1), headers: [:]),
            ],
            pools: [
                "web": PoolSettings(
                    name: "web", balancer: "edge", backend: "be_app", servers: servers, spares: spares, minHealthyCapacity: floor,
                    maxInFlight: maxInFlight)
            ],
            groups: [RuleGroup(name: "web", pool: "web", rules: [rule])],
            safety: safety ?? settings)
    }
}

extension HealerConfiguration {
    /// This configuration with a second recovery rule `name` over `expression` in `pool`, judged like `errors`.
    public func adding(rule name: String, expression: String, pool: String = "web") -> HealerConfiguration {
        var configuration = self
        var rule = configuration.groups[0].rules[0]
        rule.name = name
        rule.pool = pool
        rule.expression = expression
        if let index = configuration.groups.firstIndex(where: { $0.pool == pool }) {
            configuration.groups[index].rules.append(rule)
        } else {
            configuration.groups.append(RuleGroup(name: pool, pool: pool, rules: [rule]))
        }
        return configuration
    }

    /// This configuration with a second pool `name` of `servers`, configured like `web`.
    public func adding(pool name: String, servers: [String]) -> HealerConfiguration {
        var configuration = self
        var pool = configuration.pools["web"]!
        pool.name = name
        pool.backend = "be_\(name)"
        pool.servers = servers
        configuration.pools[name] = pool
        return configuration
    }
}

extension Plan {
    /// How many balancer changes and actuator calls the plan has: one ladder step may take one of each.
    public var effectCount: Int { changes.count + calls.count }
}
