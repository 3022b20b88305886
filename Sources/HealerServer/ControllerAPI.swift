public import Foundation
public import HealerController
public import HealerCore
import Synchronization

/// What the HTTP server needs of the running controller, and the operations it offers.
public final class ControllerAPI: Sendable {
    /// The reconcile loop.
    public let service: ReconcilerService<ContinuousClock>
    /// Healer's metrics.
    public let metrics: ControllerMetrics
    /// The decision journal.
    public let journal: DecisionJournal
    /// The alert intake.
    public let intake: AlertIntake
    /// Hands the changes a follower receives (alerts, pause, resume, release) to the leader (`ha:`); `nil` for a
    /// single instance.
    public let leaderForwarder: LeaderForwarder?
    /// Loads the configuration again; `nil` when reloading is not possible.
    private let loader: (@Sendable () throws -> HealerConfiguration)?
    private let reloadFailure = Mutex<String?>(nil)
    let processMetrics: ProcessMetrics

    /// Creates the API over a running loop.
    public init(
        service: ReconcilerService<ContinuousClock>, metrics: ControllerMetrics, journal: DecisionJournal, intake: AlertIntake = AlertIntake(),
        leaderForwarder: LeaderForwarder? = nil, loader: (@Sendable () throws -> HealerConfiguration)? = nil
    ) {
        self.leaderForwarder = leaderForwarder
        self.service = service
        self.metrics = metrics
        self.journal = journal
        self.intake = intake
        self.loader = loader
        self.processMetrics = ProcessMetrics(registry: metrics.registry)
    }

    /// The last reload's error, while the previous configuration stays in force.
    public var lastReloadFailure: String? { reloadFailure.withLock { $0 } }

    /// Loads the configuration again and swaps it in atomically; a broken file keeps the old one.
    ///
    /// - Returns: `nil` on success, else the problems (one per line).
    @discardableResult
    public func reload() -> String? {
        guard let loader else { return "this controller was started without a configuration file" }
        do {
            let configuration = try loader()
            service.reload(configuration)
            metrics.configurationLoaded(successfully: true)
            reloadFailure.withLock { $0 = nil }
            return nil
        } catch {
            let text = "\(error)"
            metrics.configurationLoaded(successfully: false)
            reloadFailure.withLock { $0 = text }
            return text
        }
    }

    /// Readiness: the loop has passed recently and reached Prometheus. Each failed check is named.
    public func readiness(now: Date = Date()) -> (ready: Bool, checks: [String]) {
        var checks: [String] = []
        var ready = true
        let interval = service.engine.configuration.reconcile.interval
        let allowed = Double(interval.components.seconds) * 3 + 10
        if let last = service.lastPass?.time {
            let age = now.timeIntervalSince(last)
            if age > allowed {
                ready = false
                checks.append("reconcile: last pass \(Int(age))s ago (more than \(Int(allowed))s)")
            } else {
                checks.append("reconcile: ok")
            }
        } else {
            ready = false
            checks.append("reconcile: no pass yet")
        }
        if let success = service.lastSuccessfulPass, now.timeIntervalSince(success) <= allowed {
            checks.append("prometheus: ok")
        } else {
            ready = false
            checks.append("prometheus: no pass with every rule query answered in the last \(Int(allowed))s")
        }
        // A rule whose own expression is wrong is named but does not make Healer unready: on Kubernetes an unready
        // pod leaves its Service, and with it the Alertmanager webhooks and the admin API of every other rule.
        let broken = service.brokenRules
        if broken.isEmpty {
            checks.append("rules: ok")
        } else {
            for (rule, failure) in broken.sorted(by: { $0.key < $1.key }) {
                checks.append(
                    "rules: \(rule) cannot be evaluated, its verdicts are unknown (\(failure.reason.rawValue)); not counted against readiness")
            }
        }
        // A balancer that cannot be seen is named; Healer stays ready (its other pools, its API and the webhooks
        // still work), and changes nothing in that pool until it is back.
        let unreachable = service.unreachableBalancers
        if unreachable.isEmpty {
            checks.append("balancers: ok")
        } else {
            for (pool, reason) in unreachable.sorted(by: { $0.key < $1.key }) {
                checks.append("balancers: pool \(pool) cannot be seen, nothing in it changes: \(reason)")
            }
        }
        if let problem = service.stateProblem {
            ready = false
            checks.append("state: \(problem)")
        } else {
            checks.append("state: ok")
        }
        if let failure = lastReloadFailure {
            checks.append("config: the last reload failed, the previous configuration is in force: \(failure.split(separator: "\n").first ?? "")")
        } else {
            checks.append("config: ok")
        }
        return (ready, checks)
    }
}
