import Foundation
import HealerCore
import HealerTesting
import SeriesLabels
import Testing

/// Adaptive weights between healthy servers, and spares brought in and out by load.
@Suite("Adaptive weights and spares")
struct CapacityTests {
    static func configuration(weights: [WeightRule] = [], scale: [ScaleRule] = [], spares: [String] = []) -> HealerConfiguration {
        var configuration = HealerConfiguration.fixture(spares: spares, pendingFor: .zero, floor: 0.3, maxInFlight: 3)
        configuration.groups[0].weights = weights
        configuration.groups[0].scale = scale
        return configuration
    }

    static let latency = WeightRule(name: "latency", expression: "latency", policy: .inverse, smoothing: 0.5, maxStep: 0.2, floor: 0.1, ceiling: 1)

    func run(_ scenario: inout EngineScenario, at second: Double, latency: [String: Double?], errors: [String: Double?] = [:], load: Double? = nil)
        -> Engine.Outcome
    {
        var values: [String: [String: Double?]] = ["latency": latency]
        values["error_ratio"] = errors.isEmpty ? Dictionary(uniqueKeysWithValues: latency.keys.map { ($0, Optional(0.0)) }) : errors
        let outcome = scenario.pass(at: second, values.merging(["errors": values["error_ratio"]!]) { $1 })
        _ = load
        return outcome
    }

    @Test func aSlowServerLosesWeightGraduallyAndGetsItBack() {
        var scenario = EngineScenario(Self.configuration(weights: [Self.latency]))
        let fast: Double? = 0.01
        var weights: [Int] = []
        for second in 0..<8 {
            let outcome = run(&scenario, at: Double(second), latency: ["s1": 0.1, "s2": fast, "s3": fast])
            weights.append(outcome.plan.desired[TargetID(pool: "web", server: "s1")]?.weightPercent ?? 100)
            #expect(outcome.plan.desired[TargetID(pool: "web", server: "s2")] == nil)  // the fastest keeps 100 %
        }
        // Target 10 % (the floor): halfway each pass, at most 20 points per pass.
        #expect(weights == [80, 60, 40, 25, 18, 14, 12, 11])
        #expect(scenario.last?.records.isEmpty == true)  // weights are not remedies: no tokens, no records
        var back: [Int] = []
        for second in 8..<20 {
            let outcome = run(&scenario, at: Double(second), latency: ["s1": 0.01, "s2": fast, "s3": fast])
            back.append(outcome.plan.desired[TargetID(pool: "web", server: "s1")]?.weightPercent ?? 100)
        }
        #expect(back.last == 100)
        #expect(zip(back, back.dropFirst()).allSatisfy { $0 <= $1 && $1 - $0 <= 20 })
    }

    @Test func unknownValuesAndIncidentsFreezeAdaptiveWeights() {
        var scenario = EngineScenario(Self.configuration(weights: [Self.latency]))
        _ = run(&scenario, at: 0, latency: ["s1": 0.1, "s2": 0.01, "s3": 0.01])
        let frozen = run(&scenario, at: 1, latency: ["s1": nil, "s2": 0.01, "s3": 0.01])
        #expect(frozen.plan.desired[TargetID(pool: "web", server: "s1")]?.weightPercent == 80)
        // An incident takes over: its remedy decides the weight, and the adaptive weight is forgotten.
        let sick = run(&scenario, at: 2, latency: ["s1": 0.1, "s2": 0.01, "s3": 0.01], errors: ["s1": 0.3, "s2": 0, "s3": 0])
        #expect(sick.plan.desired[TargetID(pool: "web", server: "s1")] == DesiredServerState(weightPercent: 25))
        #expect(scenario.state.adaptiveWeights[TargetID(pool: "web", server: "s1")] == nil)
    }

    @Test func errorPenalisedWeights() {
        let rule = WeightRule(name: "latency", expression: "latency", policy: .errorPenalised, smoothing: 1, maxStep: 1, floor: 0.1, ceiling: 1)
        var scenario = EngineScenario(Self.configuration(weights: [rule]))
        let outcome = run(&scenario, at: 0, latency: ["s1": 0.5, "s2": 0, "s3": 0.95])
        #expect(outcome.plan.desired[TargetID(pool: "web", server: "s1")]?.weightPercent == 50)
        #expect(outcome.plan.desired[TargetID(pool: "web", server: "s3")]?.weightPercent == 10)
    }

    @Test func aHotPoolBringsASpareInAndACoolOneTakesItOut() {
        let rule = ScaleRule(
            name: "load", expression: "load", perServerCapacity: 100, outAbove: 0.8, inBelow: 0.3, pendingFor: .seconds(3), cooldown: .seconds(10))
        var scenario = EngineScenario(Self.configuration(scale: [rule], spares: ["s4"]))
        func pass(_ second: Double, load: Double) -> Engine.Outcome {
            scenario.pass(at: second, ["error_ratio": ["s1": 0, "s2": 0, "s3": 0], "errors": ["s1": 0, "s2": 0, "s3": 0], "load": ["": load]])
        }
        let spare = TargetID(pool: "web", server: "s4")
        // 270 requests/s over 3 servers of 100: 90 % > 80 %.
        #expect(pass(0, load: 270).plan.isQuiet)
        #expect(pass(2, load: 270).plan.isQuiet)
        let out = pass(3, load: 270)
        #expect(out.plan.changes.map(\.action) == [.scaleOut])
        #expect(out.plan.changes.map(\.state) == [.normal])
        #expect(out.plan.desired[spare] == .normal)
        #expect(out.records.last?.code == .scaleOut)
        #expect(out.records.last?.why == .scaleOut(reading: "utilisation 90% of 3 servers", above: 0.8, spare: "s4"))
        // Between the thresholds: nothing moves. 270 over 4 servers is 68 %.
        #expect(pass(20, load: 270).plan.isQuiet)
        // Cool: 40 over 4 servers is 10 % < 30 %, for 3 s.
        #expect(pass(21, load: 40).plan.isQuiet)
        let back = pass(24, load: 40)
        #expect(back.plan.changes.map(\.action) == [.scaleIn])
        #expect(back.plan.changes.map(\.state) == [DesiredServerState(admin: .drain)])
        #expect(back.plan.desired[spare] == DesiredServerState(admin: .drain))
        #expect(back.records.last?.code == .scaleIn)
        #expect(back.records.last?.why == .scaleIn(reading: "utilisation 10% of 4 servers", below: 0.3, spare: "s4"))
        // No flapping: the cooldown holds the next move.
        #expect(pass(25, load: 400).plan.isQuiet)
        #expect(pass(28, load: 400).plan.isQuiet)
        #expect(pass(34, load: 400).plan.changes.count == 1)
    }

    @Test func unknownLoadMovesNoSpare() {
        let rule = ScaleRule(
            name: "load", expression: "load", perServerCapacity: 100, outAbove: 0.8, inBelow: 0.3, pendingFor: .zero, cooldown: .zero)
        var scenario = EngineScenario(Self.configuration(scale: [rule], spares: ["s4"]))
        let outcome = scenario.pass(at: 0, ["errors": ["s1": 0, "s2": 0, "s3": 0]], failing: ["load"])
        #expect(outcome.plan.isQuiet)
        #expect(outcome.plan.desired.isEmpty)
    }

    /// A spare leaving passes the gates its record lists — each evaluated: here the in-flight limit holds it while
    /// another server is under remediation, and the floor would hold it if the pool needed it.
    @Test func aSpareLeavesOnlyThroughTheGatesItsRecordLists() {
        let rule = ScaleRule(
            name: "load", expression: "load", perServerCapacity: 100, outAbove: 0.8, inBelow: 0.3, pendingFor: .zero, cooldown: .zero)
        var configuration = Self.configuration(scale: [rule], spares: ["s4"])
        configuration.pools["web"]?.maxInFlight = 1
        var scenario = EngineScenario(configuration)
        let healthy: [String: Double?] = ["s1": 0, "s2": 0, "s3": 0, "s4": 0]
        #expect(scenario.pass(at: 0, ["errors": healthy, "load": ["": 270]]).plan.changes.count == 1)  // s4 in
        // s1 under remediation (in flight, the limit is 1): the spare stays although the pool is cool.
        let held = scenario.pass(at: 1, ["errors": ["s1": 0.3, "s2": 0, "s3": 0, "s4": 0], "load": ["": 40]])
        #expect(held.plan.changes.map(\.key.target.server) == ["s1"])
        let hold = held.records.filter { $0.actionType == .scaleIn }
        #expect(hold.map(\.kind) == [.suppressed])
        #expect(hold.map(\.suppressedBy) == [.inFlight])
        #expect(hold.first?.gatesPassed == [.leader, .pause, .dataQuality, .capacityFloor])
        // Once s1 is no longer in flight, the spare leaves, having passed exactly the gates that guard a spare leaving.
        var time = 2.0
        var left: DecisionRecord?
        while left == nil, time < 200 {
            left = scenario.pass(at: time, ["errors": healthy, "load": ["": 40]]).records.first { $0.kind == .action && $0.actionType == .scaleIn }
            time += 1
        }
        #expect(left?.gatesPassed == [.leader, .pause, .dataQuality, .capacityFloor, .inFlight, .rateLimit, .storm])
    }
}

/// The capacity floor counts what the balancer serves: a server drained by a person, at weight 0 or down is not
/// capacity, whatever Healer's own bookkeeping says.
@Suite("Capacity as the balancer serves it")
struct ServedCapacityTests {
    @Test(arguments: ["drained", "weight 0", "down"])
    func aServerOutOfRotationIsNoCapacity(how: String) {
        let s3 = TargetID(pool: "web", server: "s3")
        let states: [TargetID: DesiredServerState] =
            how == "drained" ? [s3: DesiredServerState(admin: .drain)] : how == "weight 0" ? [s3: DesiredServerState(weightPercent: 0)] : [:]
        let down: Set<TargetID> = how == "down" ? [s3] : []
        // 3 servers, floor 60 %: s3 out of rotation by someone else, s1 sick. Draining s1 would leave s2 alone: 33 %.
        let engine = Engine(configuration: .fixture(pendingFor: .zero, floor: 0.6))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let samples = ["s1": 0.3, "s2": 0.0, "s3": 0.0].map { SeriesSample(labels: ["server": $0.key], value: $0.value) }
        var observations = Observations(rules: ["errors": .series(samples, at: now)])
        observations.balancerStates = states
        observations.down = down
        let outcome = engine.reconcile(state: EngineState(maxActionsPerMinute: 100), observations: observations, now: now)
        #expect(outcome.plan.isQuiet)
        #expect(outcome.records.first { $0.kind == .suppressed }?.suppressedBy == .capacityFloor)
        #expect(outcome.healthyCapacity["web"].map { abs($0 - 1.0 / 3) < 1e-9 } == true)
    }

    @Test func serversInRotationCountAsBefore() {
        let engine = Engine(configuration: .fixture(pendingFor: .zero, floor: 0.6))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let samples = ["s1": 0.3, "s2": 0.0, "s3": 0.0].map { SeriesSample(labels: ["server": $0.key], value: $0.value) }
        var observations = Observations(rules: ["errors": .series(samples, at: now)])
        observations.balancerStates = Dictionary(
            uniqueKeysWithValues: ["s1", "s2", "s3"].map { (TargetID(pool: "web", server: $0), DesiredServerState.normal) })
        let outcome = engine.reconcile(state: EngineState(maxActionsPerMinute: 100), observations: observations, now: now)
        #expect(outcome.plan.changes.map(\.key.target.server) == ["s1"])
    }
}
