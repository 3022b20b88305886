public import Foundation
public import HealerCore
public import Prometheus
import Synchronization

/// Every metric Healer exports, declared here and nowhere else.
///
/// Names follow the Prometheus conventions (`healer_` prefix, `_total` counters, `_seconds` durations).
/// Closed label sets (results, reasons, verdicts, phases) are created at 0 for every pool and rule when
/// the configuration is known, so that dashboards and alerts see the series before the first event.
public final class ControllerMetrics: Sendable {
    /// Where the metrics live; `/metrics` emits it.
    public let registry: PrometheusCollectorRegistry

    private let reconcileResults: [String: Counter]
    private let reconcileDuration: DurationHistogram
    private let iterationsMissed: Counter
    private let lastSuccess: Gauge
    private let verdicts: [String: Gauge]
    private let incidents: [String: Gauge]
    private let actions: Mutex<[String: Counter]> = Mutex([:])
    private let suppressed: [String: Counter]
    private let capacity: [String: Gauge]

    /// The `result` values of `healer_reconcile_total`.
    public static let reconcileResultValues = ["success", "partial", "error"]

    /// Declares and pre-creates every series for `configuration` in `registry`.
    public init(configuration: HealerConfiguration, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let pools = configuration.pools.keys.sorted()

        let reconcile = MetricNameDescriptor(
            namespace: "healer", metricName: "reconcile", unitName: "total",
            helpText: "Reconcile passes by result (partial: some rule queries failed).")
        reconcileResults = Dictionary(
            uniqueKeysWithValues: Self.reconcileResultValues.map { ($0, registry.makeCounter(descriptor: reconcile, labels: [("result", $0)])) })
        reconcileDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "healer", metricName: "reconcile_duration", unitName: "seconds", helpText: "Time one reconcile pass takes."),
            buckets: [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            ])
        iterationsMissed = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "healer", metricName: "reconcile_iterations_missed", unitName: "total",
                helpText: "Reconcile slots skipped because a pass overran its interval."))
        lastSuccess = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "healer", metricName: "last_successful_reconcile_timestamp", unitName: "seconds",
                helpText: "Unix time of the last pass whose every rule query answered."))

        let verdict = MetricNameDescriptor(
            namespace: "healer", metricName: "verdicts", unitName: "", helpText: "Targets per pool, rule and verdict in the last pass.")
        var verdicts: [String: Gauge] = [:]
        for rule in configuration.recoveryRules {
            for value in Verdict.allCases {
                verdicts[Self.key(rule.pool, rule.name, value.rawValue)] = registry.makeGauge(
                    descriptor: verdict, labels: [("pool", rule.pool), ("rule", rule.name), ("verdict", value.rawValue)])
            }
        }
        self.verdicts = verdicts

        let incident = MetricNameDescriptor(
            namespace: "healer", metricName: "incidents", unitName: "", helpText: "Open incidents per pool and phase.")
        var incidents: [String: Gauge] = [:]
        let suppressedDescriptor = MetricNameDescriptor(
            namespace: "healer", metricName: "actions_suppressed", unitName: "total",
            helpText: "Remedies held back by a safety gate, per pool and gate (each suppression counted once while it lasts).")
        var suppressed: [String: Counter] = [:]
        let capacityDescriptor = MetricNameDescriptor(
            namespace: "healer", metricName: "pool_healthy_capacity", unitName: "ratio",
            helpText: "Healthy capacity of the pool: configured weight of healthy servers in rotation over that of all non-spare servers.")
        var capacity: [String: Gauge] = [:]
        for pool in pools {
            for phase in Incident.Phase.allCases {
                incidents[Self.key(pool, phase.rawValue)] = registry.makeGauge(
                    descriptor: incident, labels: [("pool", pool), ("state", phase.rawValue)])
            }
            for gate in Gate.allCases {
                suppressed[Self.key(pool, gate.rawValue)] = registry.makeCounter(
                    descriptor: suppressedDescriptor, labels: [("pool", pool), ("reason", gate.rawValue)])
            }
            capacity[pool] = registry.makeGauge(descriptor: capacityDescriptor, labels: [("pool", pool)])
        }
        self.incidents = incidents
        self.suppressed = suppressed
        self.capacity = capacity

        for pool in pools {
            for action in ["set_weight", "drain", "ready", "maint", "restart", "notify"] {
                for result in ActionOutcome.Result.allCases { _ = actionCounter(pool: pool, action: action, result: result.rawValue) }
            }
        }
    }

    /// Records one finished pass.
    public func passFinished(
        outcome: Engine.Outcome, results: [(action: PlannedAction, outcome: ActionOutcome)], duration: Duration, failedQueries: Int,
        totalQueries: Int, time: Date
    ) {
        let result = failedQueries == 0 ? "success" : (failedQueries < totalQueries ? "partial" : "error")
        reconcileResults[result]?.increment()
        reconcileDuration.record(duration)
        if result == "success" { lastSuccess.set(to: time.timeIntervalSince1970) }

        var verdictCounts: [String: Int] = [:]
        for report in outcome.verdicts {
            verdictCounts[Self.key(report.key.target.pool, report.key.rule, report.verdict.rawValue), default: 0] += 1
        }
        for (key, gauge) in verdicts { gauge.set(to: Double(verdictCounts[key] ?? 0)) }

        var incidentCounts: [String: Int] = [:]
        for incident in outcome.state.incidents.values {
            incidentCounts[Self.key(incident.key.target.pool, incident.phase.rawValue), default: 0] += 1
        }
        for (key, gauge) in incidents { gauge.set(to: Double(incidentCounts[key] ?? 0)) }

        for record in outcome.records where record.kind == .suppressed {
            if let gate = record.suppressedBy { suppressed[Self.key(record.pool, gate.rawValue)]?.increment() }
        }
        for (pool, ratio) in outcome.healthyCapacity { capacity[pool]?.set(to: ratio) }
        for (action, result) in results {
            actionCounter(pool: action.key.target.pool, action: action.kind.name, result: result.result.rawValue).increment()
        }
    }

    /// Records skipped slots.
    public func missedSlots(_ count: Int) {
        iterationsMissed.increment(by: Int64(count))
    }

    private func actionCounter(pool: String, action: String, result: String) -> Counter {
        actions.withLock { counters in
            let key = Self.key(pool, action, result)
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "healer", metricName: "actions", unitName: "total",
                    helpText: "Actions per pool, kind and result (success, failure, dry_run)."),
                labels: [("pool", pool), ("action", action), ("result", result)])
            counters[key] = counter
            return counter
        }
    }

    private static func key(_ parts: String...) -> String { parts.joined(separator: "\u{1}") }
}
