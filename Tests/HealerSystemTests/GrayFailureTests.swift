import Foundation
import HealerController
import HealerCore
import HealerHAProxy
import HealerTesting
import Testing

/// The system, end to end: real HAProxy, real Prometheus, real demo backends, real load.
@Suite("Gray failure, end to end", .serialized)
struct GrayFailureTests {
    static let rule = RecoveryRule(
        name: "ErrorRatio", pool: "web", expression: SystemFixture.errorRatio, unhealthy: Threshold(.greater, 0.05),
        healthy: Threshold(.less, 0.01), pendingFor: .seconds(2), clearFor: .seconds(12), rampStep: .seconds(1),
        ladder: [
            LadderStep(.setWeight(percent: 25), verify: .seconds(2)),
            LadderStep(.drain(waitSessions: .seconds(5)), verify: .seconds(60)),
        ])

    @Test func aServerFailing30PercentWithHealthyChecksIsReweightedDrainedAndGivenBack() async throws {
        try await SystemFixture.run(rules: [Self.rule]) { system in
            let load = LoadGenerator(url: system.haproxy.frontendURL, concurrency: 4, maximum: .seconds(150))
            defer { Task { await load.stop() } }
            try await waitUntil("every server judged healthy under load", timeout: .seconds(60)) {
                let verdicts = system.service.lastPass?.outcome.verdicts ?? []
                return verdicts.count == 3 && verdicts.allSatisfy { $0.verdict == .healthy }
            }

            // A gray failure: s1 fails 30 % of requests while its /health stays 200.
            try await system.backends["s1"].setFault(["error_ratio": 0.3])
            let injected = ContinuousClock.now
            try await waitUntil("the weight to be lowered", timeout: .seconds(30)) {
                system.recorded("s1", .stepApplied, step: 0, action: .setWeight(percent: 25))
            }
            try await waitUntil("the drain", timeout: .seconds(30)) { system.recorded("s1", .stepApplied, step: 1, action: .drain) }
            // The record is journalled before the pass writes to HAProxy: wait for the write itself.
            try await waitUntil("HAProxy to drain s1", timeout: .seconds(10)) { try await system.state(of: "s1").adminState == .drain }
            let drained = ContinuousClock.now
            let s1 = try await system.state(of: "s1")
            #expect(s1.adminState == .drain)
            #expect(s1.userWeight == 25)
            #expect(s1.isRunning)  // HAProxy's health checks never saw anything wrong

            // A reload gives HAProxy a new worker with the configured weights; the next pass re-asserts Healer's.
            try await system.haproxy.reload()
            try await waitUntil("the drain re-asserted after the reload", timeout: .seconds(10)) {
                let state = try await system.state(of: "s1")
                return state.adminState == .drain && state.userWeight == 25
            }

            // Errors stop reaching clients once s1 is drained (the rate window is 3 s).
            let settled = drained.advanced(by: .seconds(3))
            try await waitUntil("three seconds of load after the drain", timeout: .seconds(30)) {
                ContinuousClock.now > settled.advanced(by: .seconds(2))
            }
            let before = try #require(load.errorRate(since: injected))
            let after = try #require(load.errorRate(since: settled))
            #expect(after < 0.01, "client error rate after the drain: \(after), during the fault: \(before)")
            #expect(before > after)

            // Recovery: the fault is lifted; s1 returns to ready and its weight ramps back to 100 %.
            try await system.backends["s1"].clearFault()
            try await waitUntil("s1 back at full weight", timeout: .seconds(60)) {
                let state = try await system.state(of: "s1")
                return state.adminState == .ready && state.userWeight == 100 && system.recorded("s1", .recovered)
            }
            let restores = system.journal.records(server: "s1").filter { $0.kind == .action }.compactMap(\.actionType).filter { $0.name == "restore" }
            #expect(restores == [25, 50, 100].map { .restore(DesiredServerState(weightPercent: $0)) })
            #expect(system.service.currentState?.incidents.isEmpty == true)
        }
    }

    @Test func theCapacityFloorKeepsTwoFailingServersOfThreeInRotation() async throws {
        try await SystemFixture.run(rules: [Self.rule], floor: 0.6) { system in
            let load = LoadGenerator(url: system.haproxy.frontendURL, concurrency: 4, maximum: .seconds(90))
            defer { Task { await load.stop() } }
            try await waitUntil("every server judged healthy under load", timeout: .seconds(60)) {
                let verdicts = system.service.lastPass?.outcome.verdicts ?? []
                return verdicts.count == 3 && verdicts.allSatisfy { $0.verdict == .healthy }
            }
            try await system.backends["s1"].setFault(["error_ratio": 0.5])
            try await system.backends["s2"].setFault(["error_ratio": 0.5])
            try await waitUntil("a decision record naming the floor", timeout: .seconds(30)) {
                system.journal.records(pool: "web").contains { $0.suppressedBy == .capacityFloor }
            }
            let record = try #require(system.journal.records(pool: "web").first { $0.suppressedBy == .capacityFloor })
            guard case .heldBack(.belowCapacityFloor(_, let floor))? = record.why else {
                Issue.record("held back by \(record.why.map(String.init(describing:)) ?? "nothing")")
                return
            }
            #expect(floor == 0.6)
            for server in ["s1", "s2"] {
                let state = try await system.state(of: server)
                #expect(state.adminState == .ready, "\(server) must stay in rotation")
                #expect(state.userWeight == 100)
            }
        }
    }

    /// A mistyped rule beside a working one: Prometheus answers it `bad_data`. Its verdicts are unknown, but they
    /// neither count as lost capacity (floor 60 % of 3 servers) nor freeze the pool: the gray failure the working
    /// rule sees is still mitigated, and the broken rule is named.
    @Test func aBrokenRuleBesideAWorkingOneStillLetsAGrayFailureBeMitigated() async throws {
        var typo = Self.rule
        typo.name = "Typo"
        typo.expression = "sum by (proxy, server) (rate(haproxy_server_http_responses_total{proxy=\"be_app\"}[3s]"
        try await SystemFixture.run(rules: [Self.rule, typo], floor: 0.6) { system in
            let load = LoadGenerator(url: system.haproxy.frontendURL, concurrency: 4, maximum: .seconds(90))
            defer { Task { await load.stop() } }
            try await waitUntil("every server judged healthy by the working rule", timeout: .seconds(60)) {
                let verdicts = (system.service.lastPass?.outcome.verdicts ?? []).filter { $0.key.rule == "ErrorRatio" }
                return verdicts.count == 3 && verdicts.allSatisfy { $0.verdict == .healthy }
            }
            let typoVerdicts = (system.service.lastPass?.outcome.verdicts ?? []).filter { $0.key.rule == "Typo" }
            #expect(typoVerdicts.count == 3)
            #expect(typoVerdicts.allSatisfy { $0.verdict == .unknown && $0.unknownReason == .ruleError })
            #expect(system.service.brokenRules["Typo"]?.reason == .badData)
            #expect(system.service.lastSuccessfulPass != nil)  // a broken rule is not Prometheus failing
            let said = system.journal.records(pool: "web").filter { $0.kind == .rule && $0.rule == "Typo" }
            #expect(said.map(\.failure) == [.badData])

            try await system.backends["s1"].setFault(["error_ratio": 0.3])
            try await waitUntil("the weight to be lowered", timeout: .seconds(30)) {
                system.journal.records(server: "s1").contains { $0.kind == .action && $0.actionType == .setWeight(percent: 25) }
            }
            // The record is journalled before the pass writes to HAProxy: wait for the write itself.
            try await waitUntil("HAProxy to serve s1 at 25 %", timeout: .seconds(10)) { try await system.state(of: "s1").userWeight == 25 }
            #expect(!system.journal.records(pool: "web").contains { $0.suppressedBy == .capacityFloor || $0.suppressedBy == .storm })
        }
    }
}
