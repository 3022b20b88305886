import Foundation
import HealerController
import HealerCore
import HealerTesting
import Logging
import Prometheus
import Testing

@Suite("Healer's own metrics")
struct ControllerMetricsTests {
    func lines(_ metrics: ControllerMetrics) -> Set<String> {
        Set(metrics.registry.emitToString().split(separator: "\n").map(String.init))
    }

    /// Every metric says what it is: help texts are written in one table, and a metric missing from it shows here.
    @Test func everyMetricHasAHelpText() async {
        let metrics = ControllerMetrics(configuration: .fixture())
        metrics.prepareConnectionTimeouts(["read"])
        func names(_ prefix: String) -> Set<String> {
            Set(lines(metrics).filter { $0.hasPrefix(prefix) }.map { String($0.split(separator: " ")[2]) })
        }
        let typed = names("# TYPE healer_")
        #expect(typed.contains("healer_http_connections_timed_out_total"))
        #expect(typed.subtracting(names("# HELP healer_")).isEmpty, "no help text: \(typed.subtracting(names("# HELP healer_")).sorted())")
    }

    @Test func leadershipTransitionsAreCounted() {
        let metrics = ControllerMetrics(configuration: .fixture())
        #expect(lines(metrics).contains(#"healer_leader_transitions_total{direction="acquired"} 0"#))
        metrics.leadershipChanged(leading: true)
        metrics.leadershipChanged(leading: false)
        metrics.leadershipChanged(leading: true)
        let emitted = lines(metrics)
        #expect(emitted.contains(#"healer_leader_transitions_total{direction="acquired"} 2"#))
        #expect(emitted.contains(#"healer_leader_transitions_total{direction="lost"} 1"#))
        #expect(emitted.contains("healer_leader 1.0"))
    }

    @Test func closedLabelSetsArePreCreatedAtZero() {
        let metrics = ControllerMetrics(configuration: .fixture())
        let emitted = lines(metrics)
        for result in ["success", "partial", "error"] { #expect(emitted.contains(#"healer_reconcile_total{result="\#(result)"} 0"#)) }
        for gate in Gate.allCases { #expect(emitted.contains(#"healer_actions_suppressed_total{pool="web",reason="\#(gate.rawValue)"} 0"#)) }
        for verdict in Verdict.allCases {
            #expect(emitted.contains(#"healer_verdicts{pool="web",rule="errors",verdict="\#(verdict.rawValue)"} 0.0"#))
        }
        #expect(emitted.contains(#"healer_incidents{pool="web",state="firing"} 0.0"#))
        #expect(emitted.contains(#"healer_actions_total{action="set_weight",pool="web",result="success"} 0"#))
        #expect(emitted.contains("# TYPE healer_reconcile_duration_seconds histogram"))
    }

    /// A balancer change counts under its decision's name, an actuator call under its purpose.
    @Test func effectsCountUnderTheirDecisionOrPurpose() {
        let configuration = HealerConfiguration.fixture()
        let metrics = ControllerMetrics(configuration: configuration)
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        let outcome = Engine(configuration: configuration).reconcile(state: EngineState(), observations: Observations(), now: time)
        let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
        var results = EffectResults()
        results.changes = [
            (BalancerChange(key: key, action: .restore(.normal), state: .normal, step: nil, dryRun: false), ActionOutcome(.success)),
            (
                BalancerChange(key: key, action: .quarantine(notify: "pager"), state: DesiredServerState(admin: .drain), step: 3, dryRun: false),
                ActionOutcome(.unchanged)
            ),
            (
                BalancerChange(key: key, action: .scaleIn, state: DesiredServerState(admin: .drain), step: nil, dryRun: false),
                .failed(.unreachable, detail: "down")
            ),
        ]
        results.calls = [
            (ActuatorCall(key: key, action: .quarantine(notify: "pager"), actuator: "pager", step: 3, dryRun: false), ActionOutcome(.success)),
            (ActuatorCall(key: key, action: .restart(actuator: "r"), actuator: "r", step: 2, dryRun: false), .failed(.exitStatus, detail: "exit 1")),
        ]
        metrics.passFinished(outcome: outcome, results: results, duration: .milliseconds(1), failedQueries: 0, totalQueries: 1, time: time)
        let emitted = lines(metrics)
        for (action, result) in [
            ("restore", "success"), ("quarantine", "unchanged"), ("scale_in", "failure"), ("notify", "success"), ("restart", "failure"),
        ] {
            #expect(emitted.contains(#"healer_actions_total{action="\#(action)",pool="web",result="\#(result)"} 1"#), "\(action) \(result)")
        }
        for action in ControllerMetrics.actionNames {
            #expect(emitted.contains(#"healer_actions_total{action="\#(action)",pool="web",result="dry_run"} 0"#) || action == "restore")
        }
    }

    @Test func aPassCountsVerdictsActionsAndSuppressions() async {
        let configuration = HealerConfiguration.fixture(pendingFor: .zero, floor: 0.3, maxInFlight: 1)
        let metrics = ControllerMetrics(configuration: configuration)
        let source = ScriptedMetricsSource()
        source.set("error_ratio", values: ["s1": 0.3, "s2": 0.3, "s3": 0])
        let service = ReconcilerService(
            configuration: configuration,
            dependencies: .init(
                metrics: source, actuator: RecordingActuator(),
                balancer: FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }]),
                observer: metrics),
            clock: ManualClock(), now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        await service.runPass()
        let emitted = lines(metrics)
        #expect(emitted.contains(#"healer_reconcile_total{result="success"} 1"#))
        #expect(emitted.contains(#"healer_verdicts{pool="web",rule="errors",verdict="unhealthy"} 2.0"#))
        #expect(emitted.contains(#"healer_verdicts{pool="web",rule="errors",verdict="healthy"} 1.0"#))
        #expect(emitted.contains(#"healer_incidents{pool="web",state="firing"} 2.0"#))
        #expect(emitted.contains(#"healer_actions_total{action="set_weight",pool="web",result="success"} 1"#))
        #expect(emitted.contains(#"healer_actions_suppressed_total{pool="web",reason="in_flight"} 1"#))
        #expect(emitted.contains(#"healer_last_successful_reconcile_timestamp_seconds 1800000000.0"#))
        #expect(emitted.contains { $0.hasPrefix("healer_pool_healthy_capacity_ratio{pool=\"web\"} 0.33") })

        source.fail("error_ratio")
        await service.runPass()
        #expect(lines(metrics).contains(#"healer_reconcile_total{result="error"} 1"#))
    }
}
