public import Foundation
public import HealerCore
public import Prometheus
import Synchronization

/// Every metric Healer exports, declared here and nowhere else.
///
/// Names follow the Prometheus conventions (`healer_` prefix, `_total` counters, `_seconds` durations).
/// Closed label sets (results, reasons, verdicts, phases) are created at 0 for every pool and rule of the
/// configuration (again after a reload), so that dashboards and alerts see the series before the first event.
public final class ControllerMetrics: Sendable {
    /// Where the metrics live; `/metrics` emits it.
    public let registry: PrometheusCollectorRegistry

    private let reconcileDuration: DurationHistogram
    private let queryDuration: DurationHistogram
    private let iterationsMissed: Counter
    private let lastSuccess: Gauge
    private let prometheusUp: Gauge
    private let leader: Gauge
    private let reloadSuccess: Gauge
    private let reloadTime: Gauge
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private let known = Mutex<(pools: Set<String>, rules: [String: String])>(([], [:]))

    /// The `result` values of `healer_reconcile_total`.
    public static let reconcileResultValues = ["success", "partial", "error"]
    /// The `action` values of `healer_actions_total`: a balancer change is named after its decision (a ladder step, a
    /// stage of giving capacity back, a spare in or out), an actuator call after its purpose (`restart`, `notify`).
    public static let actionNames = DecisionAction.names + ["notify"]
    /// The `status` values of `healer_alerts_received_total`.
    public static let alertOutcomes = ["accepted", "duplicate", "resolved", "unknown_rule", "unknown_target", "forwarded"]

    private static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]
    private static let incidentBuckets: [Duration] = [
        .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        .seconds(1800), .seconds(3600),
    ]

    /// Declares every metric and pre-creates the series of `configuration`.
    public init(configuration: HealerConfiguration, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        reconcileDuration = registry.makeDurationHistogram(
            descriptor: Self.descriptor("reconcile_duration", unit: "seconds"), buckets: Self.latencyBuckets)
        queryDuration = registry.makeDurationHistogram(
            descriptor: Self.descriptor("prometheus_query_duration", unit: "seconds"),
            buckets: Self.latencyBuckets)
        iterationsMissed = registry.makeCounter(
            descriptor: Self.descriptor("reconcile_iterations_missed", unit: "total"))
        lastSuccess = registry.makeGauge(
            descriptor: Self.descriptor("last_successful_reconcile_timestamp", unit: "seconds"))
        prometheusUp = registry.makeGauge(
            descriptor: Self.descriptor("prometheus_up", unit: ""))
        leader = registry.makeGauge(descriptor: Self.descriptor("leader", unit: ""))
        reloadSuccess = registry.makeGauge(
            descriptor: Self.descriptor("config_last_reload_successful", unit: ""))
        reloadTime = registry.makeGauge(
            descriptor: Self.descriptor("config_last_reload_success_timestamp", unit: "seconds"))
        reloadSuccess.set(to: 1)
        reloadTime.set(to: Date().timeIntervalSince1970)
        for result in Self.reconcileResultValues {
            _ = counter("reconcile", ["result": result])
        }
        for direction in ["acquired", "lost"] { _ = counter("leader_transitions", ["direction": direction]) }
        for status in Self.alertOutcomes {
            _ = counter("alerts_received", ["status": status])
        }
        alertsForgotten(0)
        prepare(configuration)
    }

    /// Pre-creates the series of the pools and rules of `configuration` (at start and after a reload).
    public func prepare(_ configuration: HealerConfiguration) {
        known.withLock {
            $0 = (Set(configuration.pools.keys), Dictionary(configuration.recoveryRules.map { ($0.name, $0.pool) }) { first, _ in first })
        }
        for rule in configuration.recoveryRules {
            for verdict in Verdict.allCases { _ = verdictGauge(pool: rule.pool, rule: rule.name, verdict: verdict.rawValue) }
        }
        // The reasons that mean a rule is wrong start at 0, so that `increase()` sees the first one.
        for group in configuration.groups {
            for rule in group.rules.map(\.name) + group.weights.map(\.name) + group.scale.map(\.name) {
                for reason in RuleFailure.Reason.allCases where RuleFailure(reason, "").isRuleFault {
                    _ = ruleFailureCounter(rule: rule, reason: reason.rawValue)
                }
            }
        }
        for pool in configuration.pools.keys {
            for phase in Incident.Phase.allCases { _ = incidentGauge(pool: pool, phase: phase.rawValue) }
            for gate in Gate.allCases { _ = suppressedCounter(pool: pool, reason: gate.rawValue) }
            for action in Self.actionNames {
                // The results every action can have; `unchanged` (balancer writes) and `refused` (exec) appear when they happen.
                for result in [ActionOutcome.Result.success, .failure, .dryRun] {
                    _ = actionCounter(pool: pool, action: action, result: result.rawValue)
                }
            }
            _ = capacityGauge(pool: pool)
            for kind in Engine.Milestone.Kind.allCases { _ = milestoneHistogram(kind: kind.rawValue, pool: pool) }
        }
    }

    /// Records one finished pass.
    public func passFinished(
        outcome: Engine.Outcome, results: EffectResults, duration: Duration, failedQueries: Int,
        unansweredQueries: Int? = nil, healthy: Bool? = nil, totalQueries: Int, ruleFailures: [String: RuleFailure] = [:], time: Date,
        isLeader: Bool = true,
        current: [TargetID: DesiredServerState] = [:]
    ) {
        let result = failedQueries == 0 ? "success" : (failedQueries < totalQueries ? "partial" : "error")
        counter("reconcile", ["result": result]).increment()
        reconcileDuration.record(duration)
        for (rule, failure) in ruleFailures { ruleFailureCounter(rule: rule, reason: failure.reason.rawValue).increment() }
        // A query failing because its rule is wrong is an answer: Prometheus was reached and understood the others.
        // Whether the pass was healthy is the loop's call (the same as readiness); without it, every query answered.
        let unanswered = unansweredQueries ?? failedQueries
        if healthy ?? (failedQueries == 0) { lastSuccess.set(to: time.timeIntervalSince1970) }
        prometheusUp.set(to: unanswered == totalQueries && totalQueries > 0 ? 0 : 1)
        leader.set(to: isLeader ? 1 : 0)

        let (pools, rules) = known.withLock { $0 }
        for (rule, pool) in rules {
            for verdict in Verdict.allCases {
                verdictGauge(pool: pool, rule: rule, verdict: verdict.rawValue).set(
                    to: Double(outcome.verdicts.count(pool: pool, rule: rule, verdict: verdict)))
            }
        }
        var incidentCounts: [String: Int] = [:]
        for incident in outcome.state.incidents.values {
            incidentCounts[Self.key(incident.key.target.pool, incident.phase.rawValue), default: 0] += 1
        }
        for pool in pools {
            for phase in Incident.Phase.allCases {
                incidentGauge(pool: pool, phase: phase.rawValue).set(to: Double(incidentCounts[Self.key(pool, phase.rawValue)] ?? 0))
            }
        }
        for record in outcome.records where record.kind == .suppressed {
            if let gate = record.suppressedBy { suppressedCounter(pool: record.pool, reason: gate.rawValue).increment() }
        }
        for (pool, ratio) in outcome.healthyCapacity { capacityGauge(pool: pool).set(to: ratio) }
        for (change, result) in results.changes {
            actionCounter(pool: change.key.target.pool, action: change.action.name, result: result.result.rawValue).increment()
        }
        for (call, result) in results.calls {
            actionCounter(pool: call.key.target.pool, action: call.purpose, result: result.result.rawValue).increment()
        }
        for milestone in outcome.milestones {
            milestoneHistogram(kind: milestone.kind.rawValue, pool: milestone.pool).record(.milliseconds(Int64(milestone.seconds * 1000)))
        }
        // The weight Healer wants where it manages a server, else what the balancer shows.
        for (target, state) in current.merging(outcome.plan.desired, uniquingKeysWith: { $1 }) {
            gauge("target_weight", ["pool": target.pool, "server": target.server]).set(to: state.effectiveShare)
        }
    }

    /// Records one rule query.
    public func queryFinished(duration: Duration) {
        queryDuration.record(duration)
    }

    /// Records skipped slots.
    public func missedSlots(_ count: Int) {
        iterationsMissed.increment(by: Int64(count))
    }

    /// Records that this replica began (`leading`) or stopped leading.
    public func leadershipChanged(leading: Bool) {
        counter("leader_transitions", ["direction": leading ? "acquired" : "lost"]).increment()
        leader.set(to: leading ? 1 : 0)
    }

    /// Records a configuration (re)load.
    public func configurationLoaded(successfully: Bool, at time: Date = Date()) {
        reloadSuccess.set(to: successfully ? 1 : 0)
        if successfully { reloadTime.set(to: time.timeIntervalSince1970) }
    }

    /// Counts deliveries the alert deduplication memory forgot early because it was full.
    public func alertsForgotten(_ count: Int) {
        let counter = counter("alert_deduplication_evictions", [:])
        if count > 0 { counter.increment(by: Int64(count)) }
    }

    /// Records what became of an Alertmanager alert (one of ``alertOutcomes``).
    public func alertReceived(_ status: String) {
        counter("alerts_received", ["status": status]).increment()
    }

    /// `count` alerts reached this follower and were handed to the leader (which counts them by what became of them).
    public func alertsForwarded(_ count: Int) {
        counter("alerts_received", ["status": "forwarded"]).increment(by: Int64(count))
    }

    /// Creates the series of the HTTP server's connection timeouts at zero (the server names them).
    public func prepareConnectionTimeouts(_ timeouts: [String]) {
        for timeout in timeouts { _ = counter("http_connections_timed_out", ["timeout": timeout]) }
    }

    /// Counts a connection of Healer's HTTP server closed for a timeout (one of those prepared).
    public func connectionTimedOut(_ timeout: String) {
        counter("http_connections_timed_out", ["timeout": timeout]).increment()
    }

    // MARK: - Series

    private func verdictGauge(pool: String, rule: String, verdict: String) -> Gauge {
        gauge("verdicts", ["pool": pool, "rule": rule, "verdict": verdict])
    }

    private func incidentGauge(pool: String, phase: String) -> Gauge {
        gauge("incidents", ["pool": pool, "state": phase])
    }

    private func suppressedCounter(pool: String, reason: String) -> Counter {
        counter("actions_suppressed", ["pool": pool, "reason": reason])
    }

    private func ruleFailureCounter(rule: String, reason: String) -> Counter {
        counter("rule_evaluation_failures", ["rule": rule, "reason": reason])
    }

    private func actionCounter(pool: String, action: String, result: String) -> Counter {
        counter("actions", ["pool": pool, "action": action, "result": result])
    }

    private func capacityGauge(pool: String) -> Gauge {
        gauge("pool_healthy_capacity", ["pool": pool], unit: "ratio")
    }

    private func milestoneHistogram(kind: String, pool: String) -> DurationHistogram {
        return histograms.withLock { histograms in
            let key = Self.key(kind, pool)
            if let histogram = histograms[key] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.descriptor("incident_\(kind)", unit: "seconds"), labels: [("pool", pool)], buckets: Self.incidentBuckets)
            histograms[key] = histogram
            return histogram
        }
    }

    private func counter(_ name: String, _ labels: [String: String]) -> Counter {
        counters.withLock { counters in
            let key = Self.key([name] + labels.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] })
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.descriptor(name, unit: "total"), labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            counters[key] = counter
            return counter
        }
    }

    private func gauge(_ name: String, _ labels: [String: String], unit: String = "") -> Gauge {
        gauges.withLock { gauges in
            let key = Self.key([name] + labels.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] })
            if let gauge = gauges[key] { return gauge }
            let gauge = registry.makeGauge(
                descriptor: Self.descriptor(name, unit: unit), labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            gauges[key] = gauge
            return gauge
        }
    }

    /// Every metric's help text, the one place they are written (swift-prometheus refuses two texts for one name).
    private static let helps: [String: String] = [
        "reconcile_duration": "Time one reconcile pass takes.",
        "prometheus_query_duration": "Time one rule query to Prometheus takes.",
        "reconcile_iterations_missed": "Reconcile slots skipped because a pass overran its interval.",
        "last_successful_reconcile_timestamp":
            "Unix time of the last pass in which Prometheus answered every rule query (a rule whose own expression is wrong aside).",
        "prometheus_up": "0 when no rule query of the last pass got an answer from Prometheus.",
        "leader": "1 when this replica is the leader and acts.",
        "leader_transitions": "Times this replica began (acquired) or stopped (lost) leading, by leader election (ha:).",
        "config_last_reload_successful": "1 when the last configuration (re)load succeeded.",
        "config_last_reload_success_timestamp": "Unix time of the last successful configuration load.",
        "incident_detection": "Time from the first unhealthy reading to the incident firing.",
        "incident_mitigation": "Time from an incident firing to its first remedy.",
        "incident_recovery": "Time from an incident firing to the server back at full weight.",
        "http_connections_timed_out":
            "Connections closed for their timeouts: idle (nothing sent since the last response), read (a request too slow to arrive whole), write (a response not taken).",
        "reconcile": "Reconcile passes by result (partial: some rule queries failed).",
        "alerts_received": "Alertmanager alerts received, by what became of them.",
        "alert_deduplication_evictions":
            "Alert deliveries forgotten by the deduplication memory before their age because it was full (a re-delivery is judged again).",
        "verdicts": "Targets per pool, rule and verdict in the last pass.",
        "incidents": "Open incidents per pool and phase.",
        "actions_suppressed": "Remedies held back by a safety gate, per pool and gate (each suppression counted once while it lasts).",
        "actions": "Actions per pool, kind and result (success, unchanged, failure, refused, dry_run).",
        "rule_evaluation_failures":
            "Passes in which a rule could not be evaluated, by reason (bad_data and wrong_result_type: the rule itself is wrong).",
        "pool_healthy_capacity": "Healthy capacity of the pool: configured weight of healthy servers in rotation over that of all non-spare servers.",
        "target_weight": "Weight of each server as a share of its configured weight (0 when out of rotation).",
    ]

    private static func descriptor(_ name: String, unit: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "healer", metricName: name, unitName: unit, helpText: helps[name] ?? "")
    }

    private static func key(_ parts: String...) -> String { key(parts) }
    private static func key(_ parts: [String]) -> String { parts.joined(separator: "\u{1}") }
}
