import Foundation
import HealerCore
import HealerTesting
import Testing

/// A remedy's budget can outlive its server: the pods a ReplicaSet makes to replace a restarted one take new names,
/// and a workload whose replacements keep failing must end in quarantine, not in restarts forever.
@Suite("Budgets that outlive their server")
struct BudgetSlotTests {
    static let sick = 0.3
    static let fine = 0.0

    static func pods(_ names: [String]) -> [String: [ServerInfo]] {
        ["web": names.map { ServerInfo(server: $0, budgetSlot: "ReplicaSet/web-7d9c") }]
    }

    @Test func replacementsShareTheirOwnersBudget() {
        let ladder = [
            LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(5)), LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
        ]
        var configuration = HealerConfiguration.fixture(ladder: ladder, pendingFor: .zero, budget: Budget(maxAttempts: 2, window: .seconds(3600)))
        configuration.pools["web"]?.selector = "app=web"  // a pool of pods
        var scenario = EngineScenario(configuration)
        // web-a is restarted; its replacement web-d fails too and is restarted; web-e, the next, is quarantined.
        let first = scenario.pass(
            at: 0, ["errors": ["web-a": Self.sick, "web-b": Self.fine, "web-c": Self.fine]], inventory: Self.pods(["web-a", "web-b", "web-c"]))
        #expect(first.plan.calls.map(\.key.target.server) == ["web-a"])
        let second = scenario.pass(
            at: 60, ["errors": ["web-d": Self.sick, "web-b": Self.fine, "web-c": Self.fine]], inventory: Self.pods(["web-d", "web-b", "web-c"]))
        #expect(second.plan.calls.map(\.key.target.server) == ["web-d"])
        #expect(second.records.contains { $0.code == .targetGone && $0.server == "web-a" && $0.phase == .closed })
        let third = scenario.pass(
            at: 120, ["errors": ["web-e": Self.sick, "web-b": Self.fine, "web-c": Self.fine]], inventory: Self.pods(["web-e", "web-b", "web-c"]))
        #expect(third.plan.calls.isEmpty)
        #expect(third.plan.changes.map(\.action) == [.quarantine(notify: nil)])
        #expect(third.records.contains { $0.code == .budgetExhausted && $0.server == "web-e" })
    }

    @Test func withoutASlotEachServerHasItsOwnBudget() {
        let ladder = [
            LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(5)), LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
        ]
        var scenario = EngineScenario(
            .fixture(ladder: ladder, pendingFor: .zero, budget: Budget(maxAttempts: 1, window: .seconds(3600)), floor: 0, maxInFlight: 3))
        let own = ["web": ["web-a", "web-b", "web-c"].map { ServerInfo(server: $0) }]
        #expect(scenario.pass(at: 0, ["errors": ["web-a": Self.sick, "web-b": Self.fine, "web-c": Self.fine]], inventory: own).plan.calls.count == 1)
        let other = scenario.pass(at: 60, ["errors": ["web-a": Self.fine, "web-b": Self.sick, "web-c": Self.fine]], inventory: own)
        #expect(other.plan.calls.map(\.key.target.server) == ["web-b"])
    }

    /// An eviction a PodDisruptionBudget refuses did nothing: tried again every pass, it spends no budget.
    @Test func aStepRefusedForNowSpendsNoBudget() {
        let ladder = [
            LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(60)), LadderStep(.quarantine(notify: nil, releaseAfter: nil)),
        ]
        var scenario = EngineScenario(.fixture(ladder: ladder, pendingFor: .zero, budget: Budget(maxAttempts: 1, window: .seconds(3600))))
        let values: [String: [String: Double?]] = ["errors": ["s1": Self.sick, "s2": Self.fine, "s3": Self.fine]]
        let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
        #expect(scenario.pass(at: 0, values).plan.calls.count == 1)
        for second in 1...5 {
            let refused = FailedStep(step: 0, detail: "429: disruption budget", refusedForNow: true)
            let retry = scenario.pass(at: Double(second), values, failedSteps: [key: refused])
            #expect(retry.plan.calls.map(\.key) == [key], "pass \(second)")
        }
        #expect(scenario.incident("errors", "s1")?.phase == .firing)
        // A real failure spends it: the next attempt is the quarantine.
        scenario.pass(at: 6, values, failedSteps: [key: FailedStep(step: 0, detail: "exit 1")])
        #expect(scenario.incident("errors", "s1")?.phase == .quarantined)
    }
}
