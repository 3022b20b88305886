import Foundation
import HealerCore
import HealerTesting
import SeriesLabels
import Testing

/// Every transition of the incident machine, pass by pass with explicit times.
/// Values: 0.3 is unhealthy (> 0.05), 0 is healthy (< 0.01), 0.03 is in the band.
@Suite("Incident machine")
struct IncidentMachineTests {
    let sick = 0.3
    let fine = 0.0
    let band = 0.03

    func values(_ s1: Double?, s2: Double? = 0, s3: Double? = 0) -> [String: [String: Double?]] {
        ["errors": ["s1": s1, "s2": s2, "s3": s3]]
    }

    @Test func healthyTargetsOpenNothing() {
        var scenario = EngineScenario(.fixture())
        let outcome = scenario.pass(at: 0, values(fine))
        #expect(outcome.state.incidents.isEmpty)
        #expect(outcome.plan.isQuiet)
        #expect(outcome.verdicts.map(\.verdict) == [.healthy, .healthy, .healthy])
        #expect(outcome.healthyCapacity["web"] == 1)
    }

    @Test func pendingThenFiringAfterFor() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(4)))
        scenario.pass(at: 0, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .pending)
        scenario.pass(at: 2, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .pending)
        #expect(scenario.changes.isEmpty && scenario.calls.isEmpty)
        let fired = scenario.pass(at: 4, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
        #expect(fired.plan.changes.map(\.action) == [.setWeight(percent: 25)])
        #expect(fired.plan.calls.isEmpty)
        #expect(fired.plan.desired == [TargetID(pool: "web", server: "s1"): DesiredServerState(weightPercent: 25)])
        #expect(fired.records.map(\.kind) == [.transition, .action])
        #expect(fired.records.last?.gatesPassed == Gate.allCases)
    }

    @Test func zeroForFiresOnTheFirstPass() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        let outcome = scenario.pass(at: 0, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
        #expect(outcome.plan.changes.count == 1)
    }

    @Test func healthyBeforeForClosesWithoutAction() {
        var scenario = EngineScenario(.fixture())
        scenario.pass(at: 0, values(sick))
        let outcome = scenario.pass(at: 2, values(fine))
        #expect(outcome.state.incidents.isEmpty)
        #expect(scenario.changes.isEmpty && scenario.calls.isEmpty)
        #expect(outcome.records.last?.code == .healthyBeforeFiring)
    }

    @Test func bandKeepsPendingCounting() {
        var scenario = EngineScenario(.fixture())
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 2, values(band))
        #expect(scenario.incident("errors", "s1")?.phase == .pending)
        scenario.pass(at: 4, values(band))
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
    }

    @Test func bandAloneOpensNothing() {
        var scenario = EngineScenario(.fixture())
        scenario.pass(at: 0, values(band))
        #expect(scenario.state.incidents.isEmpty)
        #expect(scenario.last?.verdicts.first?.verdict == .healthy)
    }

    @Test func escalatesThroughTheLadderWhenVerificationFails() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        scenario.pass(at: 0, values(sick))  // step 1: set_weight 25 %, verify 10 s
        scenario.pass(at: 9, values(sick))
        #expect(scenario.incident("errors", "s1")?.appliedStep == 0)
        scenario.pass(at: 10, values(sick))  // step 2: drain, verify 15 s
        #expect(scenario.incident("errors", "s1")?.appliedStep == 1)
        #expect(scenario.last?.plan.desired.values.first == DesiredServerState(weightPercent: 25, admin: .drain))
        scenario.pass(at: 25, values(sick))  // step 3: restart, verify 60 s
        #expect(scenario.last?.plan.changes.isEmpty == true)
        #expect(scenario.last?.plan.calls.map(\.action) == [.restart(actuator: "restart-backend")])
        scenario.pass(at: 85, values(sick))  // step 4: quarantine
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(scenario.last?.plan.changes.map(\.action) == [.quarantine(notify: "oncall")])
        #expect(scenario.last?.plan.changes.map(\.state) == [DesiredServerState(weightPercent: 25, admin: .drain)])
        #expect(scenario.last?.plan.calls.map(\.actuator) == ["oncall"])
        #expect(scenario.changes.map(\.change.action) == [.setWeight(percent: 25), .drain, .quarantine(notify: "oncall")])
        #expect(scenario.calls.map(\.call.purpose) == ["restart", "notify"])
        scenario.pass(at: 500, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(scenario.changes.count == 3)
        #expect(scenario.calls.count == 2)
    }

    @Test func bandDuringVerificationDoesNotEscalate() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 30, values(band))
        #expect(scenario.incident("errors", "s1")?.appliedStep == 0)
        #expect(scenario.incident("errors", "s1")?.wantedStep == nil)
    }

    @Test func recoveryRampsWeightBackInStages() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, clearFor: .seconds(20), rampStep: .seconds(10)))
        scenario.pass(at: 0, values(sick))  // weight 25 %
        scenario.pass(at: 5, values(fine))
        scenario.pass(at: 24, values(fine))
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
        let recovering = scenario.pass(at: 25, values(fine))  // healthy for 20 s
        #expect(scenario.incident("errors", "s1")?.phase == .recovering)
        #expect(recovering.plan.changes.map(\.action) == [.restore(DesiredServerState(weightPercent: 50))])
        scenario.pass(at: 30, values(fine))
        #expect(scenario.last?.plan.desired.values.first == DesiredServerState(weightPercent: 50))
        let full = scenario.pass(at: 35, values(fine))
        #expect(full.plan.changes.map(\.action) == [.restore(.normal)])
        #expect(full.plan.desired.values.first == DesiredServerState.normal)
        let closed = scenario.pass(at: 45, values(fine))
        #expect(closed.state.incidents.isEmpty)
        #expect(closed.plan.desired.isEmpty)
        #expect(closed.records.last?.code == .recovered)
    }

    @Test func aDrainedServerComesBackAtTheRampStartNeverInOneJump() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, clearFor: .seconds(5), rampStep: .seconds(5)))
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 10, values(sick))  // drained at 25 %
        scenario.pass(at: 11, values(fine))
        scenario.pass(at: 16, values(fine))  // recovering: ready at 25 %
        #expect(scenario.last?.plan.changes.map(\.action) == [.restore(DesiredServerState(weightPercent: 25, admin: .ready))])
        #expect(scenario.last?.plan.desired.values.first == DesiredServerState(weightPercent: 25, admin: .ready))
        scenario.pass(at: 21, values(fine))
        scenario.pass(at: 26, values(fine))
        #expect(scenario.changes.map(\.change.state.weightPercent) == [25, 25, 25, 50, 100])
        #expect(scenario.changes.map(\.change.state.admin) == [.ready, .drain, .ready, .ready, .ready])
    }

    @Test func relapseDuringRecoveryReappliesTheStep() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, clearFor: .seconds(5), rampStep: .seconds(10)))
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 1, values(fine))
        scenario.pass(at: 6, values(fine))  // recovering, 50 %
        #expect(scenario.incident("errors", "s1")?.phase == .recovering)
        let relapse = scenario.pass(at: 8, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
        #expect(relapse.plan.changes.map(\.action) == [.setWeight(percent: 25)])
        #expect(relapse.plan.desired.values.first == DesiredServerState(weightPercent: 25))
    }

    @Test func unknownFreezesTimersAndUndoesNothing() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(4)))
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 2, values(nil))  // no series: unknown
        scenario.pass(at: 12, values(nil))
        #expect(scenario.incident("errors", "s1")?.phase == .pending)
        scenario.pass(at: 13, values(sick))
        scenario.pass(at: 14, values(sick))  // 2 s of unhealthy counted before the gap, 1 s after: not yet 4 s
        #expect(scenario.incident("errors", "s1")?.phase == .pending)
        scenario.pass(at: 15, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
    }

    @Test func unknownDuringARemedyKeepsIt() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        scenario.pass(at: 0, values(sick))
        for second in stride(from: 5.0, through: 300, by: 5) {
            let outcome = scenario.pass(at: second, values(sick), failing: ["errors"])
            #expect(outcome.plan.isQuiet)
            #expect(outcome.plan.desired.values.first == DesiredServerState(weightPercent: 25))
        }
        #expect(scenario.incident("errors", "s1")?.appliedStep == 0)
        // Verification resumes where it stopped: 10 s of window had not passed before data vanished at 5 s.
        scenario.pass(at: 301, values(sick))
        #expect(scenario.incident("errors", "s1")?.appliedStep == 0)
        scenario.pass(at: 306, values(sick))
        #expect(scenario.incident("errors", "s1")?.appliedStep == 1)
    }

    @Test(arguments: [(NoDataPolicy.unknown, Verdict.unknown), (.healthy, .healthy), (.unhealthy, .unhealthy)])
    func noDataPolicies(policy: NoDataPolicy, expected: Verdict) {
        var scenario = EngineScenario(.fixture(noData: policy))
        let outcome = scenario.pass(at: 0, values(nil))
        #expect(outcome.verdicts.first { $0.key.target.server == "s1" }?.verdict == expected)
        #expect((scenario.incident("errors", "s1") != nil) == (expected == .unhealthy))
    }

    @Test func warningsAndFailuresAreUnknown() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        let warned = scenario.pass(at: 0, values(sick), warnings: ["partial response"])
        #expect(warned.verdicts.allSatisfy { $0.verdict == .unknown && $0.unknownReason == .warnings })
        #expect(warned.state.incidents.isEmpty)
        let failed = scenario.pass(at: 1, values(sick), failing: ["errors"])
        #expect(failed.verdicts.allSatisfy { $0.unknownReason == .prometheusError })
        #expect(scenario.changes.isEmpty && scenario.calls.isEmpty)
    }

    @Test func staleAnswersAndDuplicateSeriesAreUnknown() {
        let engine = Engine(configuration: .fixture(pendingFor: .zero))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let stale = RuleObservation.series([SeriesSample(labels: ["server": "s1"], value: 0.3)], at: now.addingTimeInterval(-180))
        let staleOutcome = engine.reconcile(state: EngineState(), observations: Observations(rules: ["errors": stale]), now: now)
        #expect(staleOutcome.verdicts.first { $0.key.target.server == "s1" }?.unknownReason == .stale)

        let oldSample = RuleObservation.series(
            [SeriesSample(labels: ["server": "s1"], value: 0.3, sampledAt: now.addingTimeInterval(-150))], at: now)
        let oldOutcome = engine.reconcile(state: EngineState(), observations: Observations(rules: ["errors": oldSample]), now: now)
        #expect(oldOutcome.verdicts.first { $0.key.target.server == "s1" }?.unknownReason == .stale)

        let twice = RuleObservation.series(
            [SeriesSample(labels: ["server": "s1", "code": "500"], value: 0.3), SeriesSample(labels: ["server": "s1", "code": "503"], value: 0.3)],
            at: now)
        let duplicate = engine.reconcile(state: EngineState(), observations: Observations(rules: ["errors": twice]), now: now)
        #expect(duplicate.verdicts.first { $0.key.target.server == "s1" }?.unknownReason == .duplicateSeries)
        #expect(duplicate.state.incidents.isEmpty)

        let nan = RuleObservation.series([SeriesSample(labels: ["server": "s1"], value: .nan)], at: now)
        let nanOutcome = engine.reconcile(state: EngineState(), observations: Observations(rules: ["errors": nan]), now: now)
        #expect(nanOutcome.verdicts.first { $0.key.target.server == "s1" }?.unknownReason == .notANumber)
    }

    @Test func quarantineIsReleasedAfterALongHealthyStreak() {
        let ladder = [
            LadderStep(.setWeight(percent: 50), verify: .seconds(5)),
            LadderStep(.quarantine(notify: nil, releaseAfter: .seconds(60))),
        ]
        var scenario = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero, clearFor: .seconds(5), rampStep: .seconds(5)))
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 5, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        scenario.pass(at: 10, values(fine))
        scenario.pass(at: 40, values(sick))  // the streak restarts
        scenario.pass(at: 50, values(fine))
        scenario.pass(at: 109, values(fine))
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        scenario.pass(at: 110, values(fine))
        #expect(scenario.incident("errors", "s1")?.phase == .recovering)
        #expect(scenario.last?.plan.desired.values.first == DesiredServerState(weightPercent: 50, admin: .ready))
    }

    @Test func aLadderWithoutQuarantineEndsInOne() {
        var scenario = EngineScenario(.fixture(ladder: [LadderStep(.setWeight(percent: 50), verify: .seconds(5))], pendingFor: .zero))
        scenario.pass(at: 0, values(sick))
        scenario.pass(at: 5, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(scenario.last?.plan.changes.map(\.action) == [.quarantine(notify: nil)])
        #expect(scenario.last?.plan.calls.isEmpty == true)
    }

    @Test func dryRunSimulatesWithoutEnforcing() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, dryRun: true))
        let outcome = scenario.pass(at: 0, values(sick))
        #expect(outcome.plan.changes.allSatisfy { $0.dryRun })
        #expect(outcome.plan.changes.count == 1)
        #expect(outcome.plan.desired.isEmpty)
        #expect(outcome.plan.simulated.values.first == DesiredServerState(weightPercent: 25))
        #expect(outcome.records.last?.dryRun == true)
        scenario.pass(at: 10, values(sick))
        #expect(scenario.incident("errors", "s1")?.appliedStep == 1)
    }

    @Test func aConfirmedAlertFiresWithoutWaitingForFor() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(60)))
        let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
        let outcome = scenario.pass(at: 0, values(sick), alerts: [key: "HighErrorRatio"])
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
        #expect(outcome.plan.changes.map(\.action) == [.setWeight(percent: 25)])
        #expect(outcome.records.first?.code == .alertConfirmed)
        #expect(outcome.milestones.map(\.kind) == [.detection, .mitigation])
    }

    @Test func anAlertTheRuleDoesNotConfirmIsIgnored() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(60)))
        let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
        let healthy = scenario.pass(at: 0, values(fine), alerts: [key: "HighErrorRatio"])
        #expect(healthy.state.incidents.isEmpty)
        #expect(healthy.records.map(\.code) == [.alertIgnored])
        #expect(healthy.records.map(\.why) == [.alertIgnored(alert: "HighErrorRatio", value: 0)])
        let blind = scenario.pass(at: 1, values(nil), alerts: [key: "HighErrorRatio"])
        #expect(blind.state.incidents.isEmpty)
        #expect(blind.records.first?.why == .alertIgnored(alert: "HighErrorRatio", value: nil))
    }

    @Test func anOperatorReleasesAQuarantinedServer() {
        let ladder = [LadderStep(.quarantine(notify: nil, releaseAfter: nil))]
        var scenario = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero, rampStep: .seconds(1)))
        scenario.pass(at: 0, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        let (state, records, released) = scenario.engine.releaseQuarantine(
            state: scenario.state, pool: "web", server: "s1", now: scenario.start.addingTimeInterval(10))
        #expect(released == 1)
        #expect(records.first?.code == .recovering)
        #expect(records.first?.why == .recovering(.releasedByOperator))
        scenario.state = state
        let next = scenario.pass(at: 11, values(fine))
        #expect(next.plan.changes.map(\.action) == [.restore(DesiredServerState(weightPercent: 25))])
        #expect(next.plan.desired.values.first == DesiredServerState(weightPercent: 25))
        // Still broken: it relapses into quarantine.
        let relapse = scenario.pass(at: 12, values(sick))
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(relapse.plan.desired.values.first == DesiredServerState(weightPercent: 100, admin: .drain))
    }

    /// An operator who releases a flapping server judged it fit to try again: it is not re-quarantined in the same pass
    /// for its flap history (which is forgotten); flapping anew, it is judged again.
    @Test func aReleaseOfAFlappingServerIsNotUndoneInTheSamePass() {
        let ladder = [LadderStep(.quarantine(notify: nil, releaseAfter: nil))]
        var safety = SafetySettings()
        safety.flapTransitions = 3
        safety.flapWindow = .seconds(600)
        safety.targetCooldown = .zero
        var scenario = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero, rampStep: .seconds(1), safety: safety))
        for (second, value) in [(0.0, sick), (1, fine), (2, sick), (3, fine), (4, sick), (5, fine)] { scenario.pass(at: second, values(value)) }
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(scenario.state.flaps.values.first?.transitions.count ?? 0 >= 3)  // flapping: its healthy readings count as unhealthy
        let (released, _) = scenario.engine.apply(
            .releaseQuarantine(TargetID(pool: "web", server: "s1")), to: scenario.state, now: scenario.start.addingTimeInterval(6))
        scenario.state = released
        let next = scenario.pass(at: 6, values(fine))
        #expect(scenario.incident("errors", "s1")?.phase == .recovering)
        #expect(!next.records.contains { $0.code == .relapse })
        #expect(next.plan.changes.map(\.action) == [.restore(DesiredServerState(weightPercent: 25))])
    }

    @Test func milestonesMeasureDetectionMitigationAndRecovery() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(4), clearFor: .seconds(2), rampStep: .seconds(1)))
        var milestones: [Engine.Milestone] = []
        for (second, value) in [(0.0, sick), (4, sick), (5, fine), (7, fine), (8, fine), (9, fine), (10, fine)] {
            milestones += scenario.pass(at: second, values(value)).milestones
        }
        #expect(
            milestones == [
                Engine.Milestone(kind: .detection, pool: "web", seconds: 4), Engine.Milestone(kind: .mitigation, pool: "web", seconds: 0),
                Engine.Milestone(kind: .recovery, pool: "web", seconds: 5),
            ])
    }

    @Test func stateSurvivesEncoding() throws {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        scenario.pass(at: 0, values(sick, s2: sick))
        scenario.pass(at: 3, values(sick, s2: nil))
        let data = try JSONEncoder().encode(scenario.state)
        let decoded = try JSONDecoder().decode(EngineState.self, from: data)
        #expect(decoded == scenario.state)
        #expect(decoded.version == EngineState.currentVersion)
    }
}

/// A step whose action failed is not in force: tried again, and a restart that keeps failing ends in quarantine.
@Suite("Failed steps")
struct FailedStepTests {
    @Test func aFailedRestartIsTriedAgainThenQuarantined() {
        let ladder = [
            LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(60)), LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
        ]
        var scenario = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero, budget: Budget(maxAttempts: 2, window: .seconds(3600))))
        let sick: [String: [String: Double?]] = ["errors": ["s1": 0.3, "s2": 0, "s3": 0]]
        let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
        #expect(scenario.pass(at: 0, sick).plan.calls.map(\.action) == [.restart(actuator: "restart-backend")])
        // Without the failure the step would be verified for 60 s; failed, it is tried again at once.
        let retried = scenario.pass(at: 1, sick, failedSteps: [key: FailedStep(step: 0, detail: "exit 1")])
        #expect(retried.plan.calls.map(\.action) == [.restart(actuator: "restart-backend")])
        #expect(retried.records.contains { $0.code == .stepFailed && $0.step == 0 })
        // Failed again: the budget (2) is spent, so the next attempt is the quarantine.
        let quarantined = scenario.pass(at: 2, sick, failedSteps: [key: FailedStep(step: 0, detail: "exit 1")])
        #expect(quarantined.plan.changes.map(\.action) == [.quarantine(notify: nil)])
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        // A restart reported failed on a server that reads healthy again is not run again.
        var recovered = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero))
        recovered.pass(at: 0, sick)
        let healthy = recovered.pass(at: 1, ["errors": ["s1": 0, "s2": 0, "s3": 0]], failedSteps: [key: FailedStep(step: 0, detail: "exit 1")])
        #expect(healthy.plan.isQuiet)
        // A success is verified as before: nothing more happens within the verify window.
        var fine = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero))
        fine.pass(at: 0, sick)
        #expect(fine.pass(at: 1, sick).plan.isQuiet)
    }
}
