import Foundation
import HealerController
import HealerCore
import HealerTesting
import Logging
import SeriesLabels
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@Suite("Reconcile loop")
struct ReconcilerServiceTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static let servers = ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }]

    func makeService(
        _ configuration: HealerConfiguration = .fixture(pendingFor: .zero), metrics: ScriptedMetricsSource,
        actuator: RecordingActuator = RecordingActuator(), balancer: FakeBalancer = FakeBalancer(pools: servers),
        clock: ManualClock = ManualClock(), journal: DecisionJournal = DecisionJournal()
    ) -> ReconcilerService<ManualClock> {
        var configuration = configuration
        configuration.reconcile.interval = .seconds(1)
        return ReconcilerService(
            configuration: configuration, dependencies: .init(metrics: metrics, actuator: actuator, balancer: balancer, journal: journal),
            clock: clock, now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: Self.logger)
    }

    @Test func aPassQueriesEachExpressionOnceDecidesAndActs() async {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: Self.servers)
        let journal = DecisionJournal()
        let service = makeService(metrics: metrics, balancer: balancer, journal: journal)
        let pass = await service.runPass()
        #expect(metrics.queries.map(\.expression) == ["error_ratio"])
        #expect(metrics.keptLabels == ["error_ratio": ["server"]])  // only what the pool's template reads
        #expect(balancer.applied == [[TargetID(pool: "web", server: "s1"): DesiredServerState(weightPercent: 25)]])
        #expect(pass.results.changes.map(\.change.action) == [.setWeight(percent: 25)])
        #expect(pass.results.outcomes == [ActionOutcome(.success, detail: "now ready@25%")])
        #expect(journal.records(server: "s1").map(\.kind) == [.transition, .transition, .action])
        #expect(service.currentState?.incidents.count == 1)
    }

    /// A pool's rules share one freshness query; its answer is split per rule, and a stale server is acted on by
    /// nothing.
    @Test func onePoolAsksOneFreshnessQueryForAllItsRules() async throws {
        let metrics = ScriptedMetricsSource()
        // Floor 30 %: s1 unknown (stale data counts as lost capacity) and s2 out still leave s3.
        let configuration = HealerConfiguration.fixture(pendingFor: .zero, floor: 0.3).adding(rule: "latency", expression: "latency_ratio")
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        metrics.set("latency_ratio", values: ["s1": 0, "s2": 0.3, "s3": 0])
        let service = makeService(configuration, metrics: metrics)
        let check = try #require(service.engine.freshnessChecks.first)
        #expect(service.engine.freshnessChecks.count == 1)
        #expect(check.rules == ["errors", "latency"])
        // s1's data behind `errors` is old (1000 s before the pass): `errors` is unknown on s1, `latency` still acts on s2.
        metrics.answer(
            check.query,
            .series([SeriesSample(labels: ["server": "s1", FreshnessCheck.ruleLabel: "0"], value: 1_800_000_000 - 1000)]))
        let pass = await service.runPass()
        #expect(metrics.freshnessQueries == [check.query])
        #expect(pass.outcome.verdicts.first { $0.key.rule == "errors" && $0.key.target.server == "s1" }?.unknownReason == .stale)
        #expect(pass.outcome.plan.changes.map(\.key) == [IncidentKey(rule: "latency", target: TargetID(pool: "web", server: "s2"))])
    }

    /// A wrong clause fails the pool's combined freshness query; each rule's own query is then asked, and only the rule
    /// whose clause is wrong fails.
    @Test func aFreshnessQueryThatIsWrongFailsOnlyItsRule() async throws {
        let metrics = ScriptedMetricsSource()
        let configuration = HealerConfiguration.fixture(pendingFor: .zero).adding(rule: "latency", expression: "latency_ratio")
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        metrics.set("latency_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
        let service = makeService(configuration, metrics: metrics)
        let check = try #require(service.engine.freshnessChecks.first)
        metrics.fail(check.query, reason: .badData, message: "parse error")
        metrics.fail(try #require(check.queries["latency"]), reason: .badData, message: "parse error")
        let pass = await service.runPass()
        #expect(Set(metrics.freshnessQueries) == Set([check.query] + check.queries.values))
        #expect(service.brokenRules.keys.sorted() == ["latency"])
        #expect(pass.outcome.plan.changes.map(\.key.target.server) == ["s1"])
    }

    /// A restart whose actuator fails is handed back to the engine, which tries it again instead of verifying it.
    @Test func aFailedRestartIsTriedAgainNextPass() async {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let actuator = RecordingActuator { _ in .failed(.exitStatus, detail: "exit 1") }
        let ladder = [
            LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(60)), LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
        ]
        let service = makeService(.fixture(ladder: ladder, pendingFor: .zero), metrics: metrics, actuator: actuator)
        await service.runPass()
        let second = await service.runPass()
        #expect(actuator.calls.count == 2)
        #expect(second.outcome.records.contains { $0.code == .stepFailed && $0.step == 0 })
    }

    @Test func dryRunActionsNeverReachTheActuator() async {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let actuator = RecordingActuator()
        let service = makeService(.fixture(pendingFor: .zero, dryRun: true), metrics: metrics, actuator: actuator)
        let pass = await service.runPass()
        #expect(actuator.calls.isEmpty)
        #expect(pass.results.outcomes.map(\.result) == [.dryRun])
    }

    @Test func theLoopSkipsMissedSlotsInsteadOfBursting() async throws {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
        let clock = ManualClock()
        let service = makeService(metrics: metrics, clock: clock)
        let run = Task { try await service.run() }
        // The first pass runs at once; the loop then sleeps until the next slot.
        try await waitUntil("the first pass") { metrics.queries.count == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(1))
        try await waitUntil("the second pass") { metrics.queries.count == 2 && clock.sleeperCount == 1 }
        // The third pass overruns by three and a half intervals.
        metrics.hold()
        clock.advance(by: .seconds(1))
        try await waitUntil("the third pass to block") { metrics.waitingCount == 1 }
        clock.advance(by: .milliseconds(3500))
        metrics.release()
        try await waitUntil("the loop to sleep again") { clock.sleeperCount == 1 }
        #expect(service.missedSlots == 3)
        #expect(metrics.queries.count == 3)
        // The next slot is on the grid, 0.5 s away: no burst of catch-up passes.
        clock.advance(by: .milliseconds(499))
        #expect(metrics.queries.count == 3)
        clock.advance(by: .milliseconds(1))
        try await waitUntil("the fourth pass") { metrics.queries.count == 4 }
        run.cancel()
        _ = try? await run.value
    }

    /// A replica that starts leading asks for a pass at once (its first pass that could act); the slot still comes.
    @Test func aTriggeredPassRunsAtOnceAndTheNextSlotStillComes() async throws {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
        let clock = ManualClock()
        let service = makeService(metrics: metrics, clock: clock)
        let run = Task { try await service.run() }
        try await waitUntil("the first pass") { metrics.queries.count == 1 && clock.sleeperCount == 1 }
        service.passTrigger.ring()
        try await waitUntil("the triggered pass, with no time passing") { metrics.queries.count == 2 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(1))
        try await waitUntil("the slot's pass") { metrics.queries.count == 3 }
        run.cancel()
        _ = try? await run.value
    }

    @Test func gracefulShutdownFinishesThePassInFlight() async throws {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: Self.servers)
        let clock = ManualClock()
        let service = makeService(metrics: metrics, balancer: balancer, clock: clock)
        metrics.hold()
        try await testGracefulShutdown { trigger in
            let run = Task { try await service.run() }
            try await waitUntil("the pass to be in flight") { metrics.waitingCount == 1 }
            trigger.triggerGracefulShutdown()
            metrics.release()
            try await run.value
        }
        #expect(service.lastPass != nil)
        #expect(balancer.applied.count == 1)
        #expect(metrics.queries.count == 1)
    }

    @Test func restartsGoToTheActuatorAndNothingChangesWhileTheBalancerIsUnreachable() async {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let actuator = RecordingActuator()
        let balancer = FakeBalancer(pools: Self.servers)
        let ladder = [LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(60))]
        let service = makeService(.fixture(ladder: ladder, pendingFor: .zero), metrics: metrics, actuator: actuator, balancer: balancer)
        await service.runPass()
        #expect(actuator.calls.map(\.action) == [.restart(actuator: "restart-backend")])
        #expect(balancer.applied.isEmpty)

        balancer.setUnreachable("connection refused")
        metrics.set("error_ratio", values: ["s1": 0, "s2": 0.3, "s3": 0])
        let blind = await service.runPass()
        #expect(blind.outcome.plan.isQuiet)
        #expect(blind.outcome.records.contains { $0.server == "s2" && $0.code == .heldBack && $0.suppressedBy == .dataQuality })
    }

    @Test func aFailingPrometheusMakesEverythingUnknown() async {
        let metrics = ScriptedMetricsSource()
        metrics.fail("error_ratio")
        let service = makeService(metrics: metrics)
        let pass = await service.runPass()
        #expect(pass.outcome.verdicts.allSatisfy { $0.verdict == .unknown })
        #expect(pass.outcome.plan.isQuiet)
    }
}
