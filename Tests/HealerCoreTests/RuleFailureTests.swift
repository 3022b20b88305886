import Foundation
import HealerCore
import HealerTesting
import SeriesLabels
import Testing

/// A rule that cannot be evaluated: its own fault (the expression is wrong) loses its verdicts only; Prometheus
/// failing may blind Healer and counts as missing data.
@Suite("Rule failures")
struct RuleFailureTests {
    let sick = 0.3
    let fine = 0.0

    @Test(arguments: RuleFailure.Reason.allCases)
    func whoseFaultAFailureIs(reason: RuleFailure.Reason) {
        let ruleFaults: Set<RuleFailure.Reason> = [.badData, .wrongResultType]
        #expect(RuleFailure(reason, "").isRuleFault == ruleFaults.contains(reason))
    }

    @Test func aBrokenRuleDoesNotDisarmTheOtherRulesOfItsPool() {
        // Floor 60 % of 3 servers: s1 sick by `errors` leaves 67 % healthy — unless the broken rule's unknowns count.
        var scenario = EngineScenario(.fixture(pendingFor: .zero, floor: 0.6).adding(rule: "typo", expression: "rate(x[5m]"))
        let outcome = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine], "typo": [:]], broken: ["typo"])
        #expect(outcome.plan.changes.map(\.action) == [.setWeight(percent: 25)])
        #expect(outcome.plan.changes.map(\.key.target.server) == ["s1"])
        #expect(outcome.records.allSatisfy { $0.suppressedBy == nil })
        #expect(outcome.healthyCapacity["web"].map { abs($0 - 2.0 / 3) < 1e-9 } == true)
        // The broken rule's own verdicts are unknown, and say why.
        let typo = outcome.verdicts.filter { $0.key.rule == "typo" }
        #expect(typo.count == 3)
        #expect(typo.allSatisfy { $0.verdict == .unknown && $0.unknownReason == .ruleError })
    }

    @Test func aBrokenRuleInOnePoolDoesNotFreezeAnother() {
        // Fleet-wide storm threshold 50 %: three unknown servers of `web` out of six would freeze `api` too.
        var safety = SafetySettings()
        safety.maxActionsPerMinute = 100
        safety.targetCooldown = .zero
        safety.stormMaxUnhealthy = 0.5
        let configuration = HealerConfiguration.fixture(pendingFor: .zero, floor: 0.5, safety: safety)
            .adding(pool: "api", servers: ["a1", "a2", "a3"]).adding(rule: "api-errors", expression: "api_error_ratio", pool: "api")
        var scenario = EngineScenario(configuration)
        let outcome = scenario.pass(
            at: 0, ["errors": [:], "api-errors": ["a1": sick, "a2": fine, "a3": fine]], broken: ["errors"])
        #expect(outcome.plan.changes.map(\.key.target) == [TargetID(pool: "api", server: "a1")])
        #expect(!outcome.records.contains { $0.code == .stormStarted })
        #expect(scenario.state.storms.isEmpty)
    }

    @Test func prometheusFailingStillCountsAsMissingData() {
        // The same world, but the second rule's query gets no answer: Healer may be blind, the floor holds.
        var scenario = EngineScenario(.fixture(pendingFor: .zero, floor: 0.6).adding(rule: "latency", expression: "latency_seconds"))
        let outcome = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine], "latency": [:]], failing: ["latency"])
        #expect(outcome.plan.isQuiet)
        #expect(outcome.records.first { $0.kind == .suppressed }?.suppressedBy == .capacityFloor)
        #expect(outcome.verdicts.filter { $0.key.rule == "latency" }.allSatisfy { $0.unknownReason == .prometheusError })
    }

    @Test func aFailingRuleIsRecordedOnceAndWhenItAnswersAgain() {
        var scenario = EngineScenario(.fixture().adding(rule: "typo", expression: "rate(x[5m]"))
        let healthy: [String: [String: Double?]] = ["errors": ["s1": fine, "s2": fine, "s3": fine], "typo": ["s1": fine, "s2": fine, "s3": fine]]
        let first = scenario.pass(at: 0, healthy, broken: ["typo"])
        let said = first.records.filter { $0.kind == .rule }
        #expect(said.map(\.rule) == ["typo"])
        #expect(said.map(\.failure) == [.badData])
        #expect(said.map(\.unknownReason) == [.ruleError])
        #expect(scenario.pass(at: 1, healthy, broken: ["typo"]).records.isEmpty)
        let blind = scenario.pass(at: 2, healthy, failing: ["typo"]).records.filter { $0.kind == .rule }
        #expect(blind.map(\.failure) == [.unavailable])
        #expect(blind.map(\.unknownReason) == [.prometheusError])
        let back = scenario.pass(at: 3, healthy).records.filter { $0.kind == .rule }
        #expect(back.map(\.rule) == ["typo"])
        #expect(back.map(\.failure) == [nil])
        #expect(scenario.state.rules.isEmpty)
    }
}

/// The age of the data behind a rule, as its freshness answer tells it.
@Suite("Data freshness")
struct FreshnessTests {
    let sick = 0.3
    let fine = 0.0

    @Test func aServerWhoseDataIsStaleIsUnknownAndNothingIsDone() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        // s1's newest sample is 150 s old (max_sample_age 2m): Prometheus still answers with its last value.
        let outcome = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]], staleInputs: ["errors": ["s1": 150]])
        #expect(outcome.plan.isQuiet)
        #expect(scenario.state.incidents.isEmpty)
        let s1 = outcome.verdicts.first { $0.key.target.server == "s1" }
        #expect(s1?.verdict == .unknown)
        #expect(s1?.unknownReason == .stale)
        let record = outcome.records.first { $0.kind == .rule }
        #expect(record?.unknownReason == .stale)
        #expect(record?.server == "s1")
        // Fresh again: acted on.
        let fresh = scenario.pass(at: 1, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        #expect(fresh.plan.changes.map(\.key.target.server) == ["s1"])
        #expect(fresh.records.contains { $0.kind == .rule && $0.unknownReason == nil })
    }

    @Test func eachServerTurningStaleIsSaidAndFreshAgainOnceForAll() {
        var scenario = EngineScenario(.fixture())
        let values: [String: [String: Double?]] = ["errors": ["s1": 0, "s2": 0, "s3": 0]]
        func said(_ outcome: Engine.Outcome) -> [DecisionRecord] { outcome.records.filter { $0.kind == .rule } }
        #expect(said(scenario.pass(at: 0, values, staleInputs: ["errors": ["s1": 300]])).map(\.server) == ["s1"])
        #expect(said(scenario.pass(at: 1, values, staleInputs: ["errors": ["s1": 300]])).isEmpty)
        #expect(said(scenario.pass(at: 2, values, staleInputs: ["errors": ["s1": 300, "s2": 300]])).map(\.server) == ["s2"])
        #expect(said(scenario.pass(at: 3, values, staleInputs: ["errors": ["s2": 300]])).isEmpty)  // s1 fresh, s2 still stale
        #expect(scenario.state.rules["errors"]?.staleServers == ["s2"])
        let fresh = said(scenario.pass(at: 4, values))
        #expect(fresh.count == 1)
        #expect(fresh.first?.unknownReason == nil)
        #expect(scenario.state.rules.isEmpty)
    }

    @Test func aValueThatIsNoTimeIsStale() {
        let scenario = EngineScenario(.fixture(pendingFor: .zero))
        var observation = RuleObservation.series(
            [SeriesSample(labels: ["server": "s1"], value: 0.3), SeriesSample(labels: ["server": "s2"], value: 0)],
            at: scenario.start)
        observation.staleInputs = [SeriesSample(labels: ["server": "s1"], value: -.infinity)]
        let outcome = scenario.engine.reconcile(
            state: scenario.state, observations: Observations(rules: ["errors": observation]), now: scenario.start)
        #expect(outcome.plan.isQuiet)
        #expect(outcome.verdicts.first { $0.key.target.server == "s1" }?.unknownReason == .stale)
    }

    @Test func dataYoungerThanTheLimitCounts() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero))
        let outcome = scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]], staleInputs: ["errors": ["s1": 90]])
        #expect(outcome.plan.changes.map(\.key.target.server) == ["s1"])
    }

    @Test func staleDataFreezesAnOpenIncident() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(10)))
        scenario.pass(at: 0, ["errors": ["s1": sick, "s2": fine, "s3": fine]])
        let stale = scenario.pass(at: 20, ["errors": ["s1": sick, "s2": fine, "s3": fine]], staleInputs: ["errors": ["s1": 200]])
        #expect(stale.plan.isQuiet)
        #expect(scenario.incident("errors", "s1")?.phase == .pending)
        #expect(stale.records.contains { $0.server == "s1" && $0.kind == .transition && $0.unknownReason == .stale })
    }

    @Test func stalenessOverridesTheNoDataPolicy() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, noData: .unhealthy))
        let outcome = scenario.pass(at: 0, ["errors": ["s2": fine, "s3": fine]], staleInputs: ["errors": ["s1": 600]])
        #expect(outcome.plan.isQuiet)
        #expect(outcome.verdicts.first { $0.key.target.server == "s1" }?.unknownReason == .stale)
    }

    @Test func derivedQueriesAskForTheNewestSampleOfEachSelectorPerServer() {
        let rule = HealerConfiguration.fixture().groups[0].rules[0]
        var ratio = rule
        ratio.expression = #"sum by (server) (rate(http_requests_total{code=~"5.."}[30s])) / sum by (server) (rate(http_requests_total[30s]))"#
        #expect(
            ratio.freshnessQuery(keeping: ["server", "proxy"], maxAge: .seconds(90))
                == #"(max by (proxy, server) (timestamp(http_requests_total{code=~"5.."})) < time() - 90)"#
                + #" or (max by (proxy, server) (timestamp(http_requests_total)) < time() - 90)"#)
        var custom = rule
        custom.freshness = .expression("timestamp(backend_error_ratio)")
        #expect(custom.freshnessQuery(keeping: ["server"], maxAge: .seconds(30)) == "(\ntimestamp(backend_error_ratio)\n) < time() - 30")
        var off = rule
        off.freshness = .none
        #expect(off.freshnessQuery(keeping: ["server"], maxAge: .seconds(30)) == nil)
        var constant = rule
        constant.expression = "vector(1)"
        #expect(constant.freshnessQuery(keeping: ["server"], maxAge: .seconds(30)) == nil)
    }
}

/// A verdict compares the value Prometheus returned, whatever it is.
@Suite("Non-finite values")
struct NonFiniteValueTests {
    @Test func infinityIsUnhealthyAndNaNIsUnknown() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, floor: 0.3))
        let outcome = scenario.pass(at: 0, ["errors": ["s1": .infinity, "s2": .nan, "s3": -.infinity]])
        let verdicts = Dictionary(uniqueKeysWithValues: outcome.verdicts.map { ($0.key.target.server, $0) })
        #expect(verdicts["s1"]?.verdict == .unhealthy)  // +Inf > 0.05
        #expect(verdicts["s2"]?.unknownReason == .notANumber)
        #expect(verdicts["s3"]?.verdict == .healthy)  // -Inf < 0.01
        #expect(outcome.plan.changes.map(\.key.target.server) == ["s1"])
        #expect(scenario.incident("errors", "s1")?.lastValue == .infinity)
    }
}

/// Records of decisions that end an incident say so.
@Suite("Closing records")
struct ClosingRecordTests {
    @Test func healthyBeforeFiringClosesTheIncident() {
        var scenario = EngineScenario(.fixture(pendingFor: .seconds(10)))
        let opened = scenario.pass(at: 0, ["errors": ["s1": 0.3, "s2": 0, "s3": 0]])
        #expect(opened.records.map(\.phase) == [.pending])
        let closed = scenario.pass(at: 1, ["errors": ["s1": 0, "s2": 0, "s3": 0]])
        #expect(closed.records.map(\.phase) == [.closed])
        #expect(scenario.incident("errors", "s1") == nil)
    }

    @Test func recoveringInFullClosesTheIncident() {
        var scenario = EngineScenario(.fixture(pendingFor: .zero, clearFor: .seconds(1), rampStep: .seconds(1)))
        scenario.pass(at: 0, ["errors": ["s1": 0.3, "s2": 0, "s3": 0]])
        var time = 1.0
        while scenario.incident("errors", "s1") != nil, time < 100 {
            scenario.pass(at: time, ["errors": ["s1": 0, "s2": 0, "s3": 0]])
            time += 1
        }
        let last = scenario.records.last { $0.server == "s1" }
        #expect(last?.phase == .closed)
        #expect(scenario.records.filter { $0.phase == .closed }.count == 1)
    }
}

/// A pool's freshness queries asked as one.
@Suite("Freshness check")
struct FreshnessCheckTests {
    @Test func theCombinedQueryLabelsEachRulesClauseAndItsAnswerIsSplitBack() throws {
        let queries = ["errors": "(max by (server) (timestamp(x)) < time() - 120)", "latency": "(timestamp(y)) < time() - 30"]
        let check = try #require(FreshnessCheck(pool: "web", queries: queries, targetLabels: ["server"]))
        #expect(check.rules == ["errors", "latency"])
        #expect(
            check.query
                == #"label_replace((max by (server) (timestamp(x)) < time() - 120), "healer_freshness_rule", "0", "", "")"#
                + #" or label_replace((timestamp(y)) < time() - 30, "healer_freshness_rule", "1", "", "")"#)
        #expect(check.labels == ["server", "healer_freshness_rule"])
        let split = check.split([
            SeriesSample(labels: ["server": "s1", "healer_freshness_rule": "1"], value: 5),
            SeriesSample(labels: ["server": "s2", "healer_freshness_rule": "7"], value: 5),
            SeriesSample(labels: ["server": "s3"], value: 5),
        ])
        #expect(split["errors"] == [])
        #expect(split["latency"] == [SeriesSample(labels: ["server": "s1"], value: 5)])
        #expect(FreshnessCheck(pool: "web", queries: [:], targetLabels: ["server"]) == nil)
    }

    @Test func everyPoolWithACheckedRuleGetsOneCheck() {
        var configuration = HealerConfiguration.fixture().adding(pool: "api", servers: ["a1"]).adding(
            rule: "api-errors", expression: "api_error_ratio", pool: "api")
        configuration.groups[1].rules[0].freshness = .none
        let engine = Engine(configuration: configuration)
        #expect(engine.freshnessChecks.map(\.pool) == ["web"])
        #expect(engine.freshnessChecks.first?.query.contains("timestamp(error_ratio)") == true)
    }
}

/// Whether the mutating endpoints would be open to the network: decided from the configuration alone.
@Suite("Server exposure")
struct ServerExposureTests {
    @Test(arguments: [
        ("127.0.0.1:9102", true), ("127.8.9.10:80", true), ("localhost:9102", true), ("[::1]:9102", true), ("0.0.0.0:9102", false),
        ("[::]:9102", false), (":9102", true), ("10.0.0.5:9102", false), ("127.0.0.1.example.com:80", false), ("1270.0.0.1:1", false),
    ])
    func loopbackAddresses(listen: String, loopback: Bool) {
        var settings = ServerSettings()
        settings.listen = listen
        #expect(settings.listensOnLoopbackOnly == loopback)
        #expect((settings.unprotectedEndpointsProblem == nil) == loopback)
    }

    @Test func aTokenOrAnExplicitChoiceOpensTheNetwork() {
        var settings = ServerSettings()
        settings.listen = "0.0.0.0:9102"
        #expect(settings.unprotectedEndpointsProblem != nil)
        settings.bearerTokenFile = "/run/secrets/healer-token"
        #expect(settings.unprotectedEndpointsProblem == nil)
        settings.bearerTokenFile = nil
        settings.allowUnauthenticated = true
        #expect(settings.unprotectedEndpointsProblem == nil)
    }
}
