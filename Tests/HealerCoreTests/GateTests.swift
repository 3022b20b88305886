import Foundation
import HealerCore
import HealerTesting
import SeriesLabels
import Testing

/// Every gate, in DESIGN.md's order, each holding an action back and saying why once.
@Suite("Safety gates")
struct GateTests {
    let sick = 0.3
    let fine = 0.0

    @Test func onlyTheLeaderActs() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        let follower = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]], isLeader: false)
        #expect(follower.plan.isQuiet)
        #expect(follower.records.last?.suppressedBy == .leader)
        #expect(follower.records.last?.gatesPassed == [])
        let leader = scenario.pass(at: 1, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(leader.plan.changes.count == 1)
    }

    @Test func pauseHoldsEveryAction() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        scenario.state.pause = PauseState(pools: ["web"])
        let paused = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(paused.plan.isQuiet)
        #expect(paused.records.last?.suppressedBy == .pause)
        #expect(paused.records.last?.gatesPassed == [.leader])
    }

    @Test func theCapacityFloorStopsTakingServersOut() {
        // 3 servers, floor 60 %: one sick leaves 67 % healthy, two sick leave 33 %.
        var scenario = EngineScenario(.fixture(pendingFor: .zero, floor: 0.6, maxInFlight: 3))
        let one = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(one.plan.changes.count == 1)
        let two = scenario.pass(at: 1, ["errors": ["s1": sick, "s2": sick, "s3": fine]])
        #expect(two.plan.isQuiet)
        let record = two.records.first { $0.server == "s2" && $0.kind == .suppressed }
        #expect(record?.suppressedBy == .capacityFloor)
        #expect(record?.gatesPassed == [.leader, .pause, .dataQuality])
        guard case .heldBack(.belowCapacityFloor(let capacity, let floor))? = record?.why else {
            Issue.record("not held back by the floor: \(String(describing: record?.why))")
            return
        }
        #expect(abs(capacity - 1.0 / 3) < 1e-9 && floor == 0.6)
        #expect(two.healthyCapacity["web"].map { abs($0 - 1.0 / 3) < 1e-9 } == true)
    }

    @Test func inFlightLimitsConcurrentRemediations() {
        var scenario = EngineScenario(.fixture(servers: ["s1", "s2", "s3", "s4", "s5"], pendingFor: .zero, floor: 0.2, maxInFlight: 1))
        let outcome = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": sick, "s3": fine, "s4": fine, "s5": fine]])
        #expect(outcome.plan.changes.map(\.key.target.server) == ["s1"])
        #expect(outcome.records.first { $0.server == "s2" && $0.kind == .suppressed }?.suppressedBy == .inFlight)
        // Escalating the one already in flight is not a new remediation.
        let escalation = scenario.pass(at: 10, ["errors": ["s1": sick, "s2": sick, "s3": fine, "s4": fine, "s5": fine]])
        #expect(escalation.plan.changes.map(\.key.target.server) == ["s1"])
    }

    @Test func aServerLeavingFlightFreesItsPlaceInTheSamePass() {
        let servers = ["s1", "s2", "s3", "s4", "s5"]
        var scenario = EngineScenario(.fixture(servers: servers, pendingFor: .zero, floor: 0.2, maxInFlight: 1))
        func values(sick unhealthy: Set<String>) -> [String: [String: Double?]] {
            ["errors": Dictionary(uniqueKeysWithValues: servers.map { ($0, Optional(unhealthy.contains($0) ? sick : fine)) })]
        }
        #expect(scenario.pass(at: 0, values(sick: ["s1"])).plan.changes.map(\.key.target.server) == ["s1"])
        _ = scenario.pass(at: 1, values(sick: []))
        // s1 has been healthy for its clear_for and starts recovering (out of flight) before s2 is judged.
        let outcome = scenario.pass(at: 22, values(sick: ["s2"]))
        #expect(scenario.state.incidents.values.first { $0.key.target.server == "s1" }?.phase == .recovering)
        #expect(outcome.records.contains { $0.server == "s2" && $0.suppressedBy == .inFlight } == false)
        #expect(scenario.state.incidents.values.first { $0.key.target.server == "s2" }?.hasActed == true)
    }

    @Test func theGlobalRateLimitIsATokenBucket() {
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 2
        safety.targetCooldown = .zero
        safety.stormMaxUnhealthy = 1
        let servers = (1...6).map { "s\($0)" }
        var scenario = EngineScenario(.fixture(servers: servers, pendingFor: .zero, floor: 0, maxInFlight: 6, safety: safety))
        let values: [String: [String: Double?]] = ["errors": Dictionary(uniqueKeysWithValues: servers.map { ($0, Optional(sick)) })]
        let burst = scenario.pass(at: 0, values)
        #expect(burst.plan.effectCount == 2)
        #expect(burst.records.filter { $0.suppressedBy == .rateLimit }.count == 4)
        #expect(scenario.pass(at: 10, values).plan.isQuiet)  // 0.33 tokens
        #expect(scenario.pass(at: 30, values).plan.effectCount == 1)  // one token refilled
        #expect(scenario.pass(at: 60, values).plan.effectCount == 1)
    }

    @Test func anExhaustedBudgetQuarantines() {
        var scenario = EngineScenario(
            .fixture(pendingFor: .zero, clearFor: .seconds(1), rampStep: .seconds(1), budget: Budget(maxAttempts: 2, window: .seconds(600))))
        // Two short incidents use the budget: each applies step 1 and recovers.
        for start in [0.0, 100] {
            scenario.pass(at: start, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
            for tick in 1...5 { scenario.pass(at: start + Double(tick), ["errors": ["s1": fine, "s2": fine, "s3": fine]]) }
            #expect(scenario.incident("errors", "s1") == nil)
        }
        let third = scenario.pass(at: 200, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(third.records.contains { $0.code == .budgetExhausted })
        // After the window the budget is back.
        scenario.state.incidents = [:]
        scenario.pass(at: 1000, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(scenario.incident("errors", "s1")?.appliedStep == 0)
    }

    @Test func aStormFreezesDestructiveActionsThenCoolsDown() {
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 100
        safety.targetCooldown = .zero
        safety.stormMaxUnhealthy = 0.5
        safety.stormCooldown = .seconds(30)
        var scenario = EngineScenario(.fixture(pendingFor: .zero, floor: 0, maxInFlight: 3, safety: safety))
        let storm = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": sick, "s3": fine]])
        #expect(storm.plan.isQuiet)
        #expect(storm.records.first?.kind == .pool)
        #expect(storm.records.contains { $0.suppressedBy == .storm })
        // Unknown data counts as trouble too: Healer may be the one that is blind.
        let blind = scenario.pass(at: 5, ["errors": ["s1": sick, "s2": nil, "s3": nil]])
        #expect(blind.plan.isQuiet)
        let over = scenario.pass(at: 10, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(over.plan.isQuiet)
        #expect(over.records.contains { $0.kind == .pool && $0.code == .stormOver })
        #expect(scenario.pass(at: 39, ["errors": ["s1": sick, "s2": fine, "s3": fine]]).plan.isQuiet)
        #expect(scenario.pass(at: 40, ["errors": ["s1": sick, "s2": fine, "s3": fine]]).plan.changes.count == 1)
    }

    @Test func aStormOfMissingDataNeedsNoCooldown() {
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 100
        safety.targetCooldown = .zero
        safety.stormMaxUnhealthy = 0.5
        safety.stormCooldown = .seconds(120)
        var scenario = EngineScenario(.fixture(pendingFor: .zero, floor: 0, safety: safety))
        // At start-up Prometheus has nothing yet: everything is unknown.
        let blind = scenario.pass(at: 0, ["errors": ["s1": nil, "s2": nil, "s3": nil]])
        #expect(blind.records.first?.kind == .pool)
        let sight = scenario.pass(at: 5, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(sight.records.contains { $0.code == .stormOverWithoutCooldown }, "\(blind.records.map(\.reason)) \(sight.records.map(\.reason))")
        #expect(sight.plan.changes.count == 1)
    }

    @Test func perTargetCooldown() {
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 100
        safety.targetCooldown = .seconds(30)
        safety.stormMaxUnhealthy = 1
        var scenario = EngineScenario(.fixture(pendingFor: .zero, safety: safety))
        scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        let held = scenario.pass(at: 10, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(held.plan.isQuiet)
        #expect(held.records.last?.suppressedBy == .cooldown)
        #expect(held.records.last?.gatesPassed == [.leader, .pause, .dataQuality, .capacityFloor, .inFlight, .rateLimit, .budget, .storm])
        #expect(scenario.pass(at: 30, ["errors": ["s1": sick, "s2": fine, "s3": fine]]).plan.changes.count == 1)
    }

    @Test func nothingChangesWhileTheBalancerCannotBeSeen() {
        let engine = Engine(configuration: .fixture(pendingFor: .zero))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let series = RuleObservation.series(
            ["s1": 0.3, "s2": 0.0, "s3": 0.0].map { SeriesSample(labels: ["server": $0.key], value: $0.value) }, at: now)
        let outcome = engine.reconcile(
            state: EngineState(), observations: Observations(rules: ["errors": series], unreachableBalancers: ["web": "connection refused"]), now: now
        )
        #expect(outcome.plan.isQuiet)
        let record = outcome.records.last
        #expect(record?.suppressedBy == .dataQuality)
        #expect(record?.gatesPassed == [.leader, .pause])
        #expect(record?.why == .heldBack(.balancerUnseen("connection refused")))
    }

    @Test func aRestartWaitsForTheDrainedSessionsToEnd() {
        let ladder = [
            LadderStep(.drain(waitSessions: .seconds(30)), verify: .seconds(5)),
            LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(60)),
        ]
        let engine = Engine(configuration: .fixture(ladder: ladder, pendingFor: .zero))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        func pass(_ state: EngineState, at seconds: Double, sessions: Int) -> Engine.Outcome {
            let now = start.addingTimeInterval(seconds)
            let series = RuleObservation.series(
                ["s1": 0.3, "s2": 0.0, "s3": 0.0].map { SeriesSample(labels: ["server": $0.key], value: $0.value) }, at: now)
            return engine.reconcile(
                state: state, observations: Observations(rules: ["errors": series], sessions: [TargetID(pool: "web", server: "s1"): sessions]),
                now: now)
        }
        var outcome = pass(EngineState(), at: 0, sessions: 7)
        #expect(outcome.plan.changes.map(\.action) == [.drain])
        outcome = pass(outcome.state, at: 5, sessions: 3)
        #expect(outcome.plan.isQuiet)
        #expect(outcome.records.last?.code == .waitingForSessions)
        #expect(outcome.records.last?.why == .waitingForSessions(sessions: 3, wait: .seconds(30)))
        outcome = pass(outcome.state, at: 10, sessions: 2)
        #expect(outcome.records.isEmpty)
        outcome = pass(outcome.state, at: 12, sessions: 0)
        #expect(outcome.plan.changes.isEmpty)
        #expect(outcome.plan.calls.map(\.action) == [.restart(actuator: "restart-backend")])
        // Sessions that never end do not block the restart forever.
        var stuck = pass(EngineState(), at: 100, sessions: 5)
        stuck = pass(stuck.state, at: 105, sessions: 5)
        #expect(stuck.plan.isQuiet)
        stuck = pass(stuck.state, at: 130, sessions: 5)
        #expect(stuck.plan.calls.map(\.action) == [.restart(actuator: "restart-backend")])
    }

    @Test func aSuppressionIsRecordedOnceWhileItLasts() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        for second in 0..<10 {
            scenario.pass(at: Double(second), ["errors": ["s1": sick, "s2": fine, "s3": fine]], isLeader: false)
        }
        #expect(scenario.records.filter { $0.kind == .suppressed }.count == 1)
    }

    @Test func restoringCapacityIsNotHeldByTheFloorOrAStorm() {
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 1
        safety.targetCooldown = .seconds(300)
        safety.stormMaxUnhealthy = 1
        var scenario = EngineScenario(.fixture(pendingFor: .zero, clearFor: .seconds(1), rampStep: .seconds(1), floor: 0.6, safety: safety))
        scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        scenario.pass(at: 1, ["errors": ["s1": fine, "s2": fine, "s3": fine]])
        let restore = scenario.pass(at: 2, ["errors": ["s1": fine, "s2": fine, "s3": fine]])
        #expect(restore.plan.changes.map(\.action) == [.restore(DesiredServerState(weightPercent: 50))])
    }

    @Test func aFlappingTargetIsTreatedAsUnhealthyAndEndsInQuarantine() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(2), clearFor: .seconds(10)))
        var second = 0.0
        while second < 300 {
            let value = Int(second / 5) % 2 == 0 ? sick : fine
            scenario.pass(at: second, ["errors": ["s1": value, "s2": fine, "s3": fine]])
            second += 1
        }
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
        #expect(scenario.changes.count + scenario.calls.count <= 6)
    }
}
