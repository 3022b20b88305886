import Foundation
import HealerCore
import HealerTesting
import PropertyBased
import Testing

/// Invariants of the engine over random observation sequences and pool sizes.
@Suite("Engine invariants")
struct EnginePropertyTests {
    /// One random world: per pass and server a code (0 healthy, 1 unhealthy, 2 band, 3 no series), leadership
    /// and Prometheus failures.
    struct World: CustomStringConvertible {
        var servers: Int
        var codes: [Int]
        var floorPercent: Int
        var maxInFlight: Int
        var rate: Int

        var passes: Int { codes.count / servers }
        var names: [String] { (1...servers).map { "s\($0)" } }
        func code(pass: Int, server: Int) -> Int { codes[pass * servers + server] }
        var description: String { "servers=\(servers) floor=\(floorPercent)% inFlight=\(maxInFlight) rate=\(rate) passes=\(passes)" }

        var configuration: HealerConfiguration {
            var safety = SafetySettings()
            safety.maxActionsPerMinute = rate
            safety.targetCooldown = .seconds(2)
            safety.stormMaxUnhealthy = 0.7
            safety.stormCooldown = .seconds(5)
            let ladder = [
                LadderStep(.setWeight(percent: 25), verify: .seconds(3)),
                LadderStep(.drain(waitSessions: .seconds(1)), verify: .seconds(3)),
                LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(3)),
                LadderStep(.quarantine(notify: nil, releaseAfter: .seconds(30))),
            ]
            return .fixture(
                servers: names, ladder: ladder, pendingFor: .seconds(2), clearFor: .seconds(3), rampStep: .seconds(2),
                budget: Budget(maxAttempts: 3, window: .seconds(120)), floor: Double(floorPercent) / 100, maxInFlight: maxInFlight,
                safety: safety)
        }

        func values(pass: Int) -> [String: [String: Double?]] {
            var series: [String: Double?] = [:]
            for (index, name) in names.enumerated() {
                switch code(pass: pass, server: index) {
                case 0: series[name] = 0.0
                case 1: series[name] = 0.3
                case 2: series[name] = 0.03
                default: series[name] = .some(nil)
                }
            }
            return ["errors": series]
        }
    }

    struct Step {
        var pass: Int
        var time: Double
        var outcome: Engine.Outcome
        var previous: EngineState
    }

    static func simulate(_ world: World) -> (scenario: EngineScenario, steps: [Step]) {
        var scenario = EngineScenario(world.configuration)
        var steps: [Step] = []
        for pass in 0..<world.passes {
            let previous = scenario.state
            let isLeader = pass % 17 != 16
            let failing: Set<String> = pass % 23 == 22 ? ["errors"] : []
            let outcome = scenario.pass(at: Double(pass), world.values(pass: pass), isLeader: isLeader, failing: failing)
            steps.append(Step(pass: pass, time: Double(pass), outcome: outcome, previous: previous))
        }
        return (scenario, steps)
    }

    static let worlds = zip(
        Gen.int(in: 2...6), Gen.int(in: 0...3).array(of: 60...600), Gen.int(in: 0...90), Gen.int(in: 1...3), Gen.int(in: 1...12)
    )
    .map { World(servers: $0.0, codes: $0.1, floorPercent: $0.2, maxInFlight: $0.3, rate: $0.4) }

    @Test func neverActsOnUnknownData() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            for step in Self.simulate(world).steps {
                for action in step.outcome.plan.actions {
                    let server = Int(action.key.target.server.dropFirst())! - 1
                    let failed = step.pass % 23 == 22
                    #expect(!failed && world.code(pass: step.pass, server: server) != 3, "\(world): \(action) at pass \(step.pass)")
                }
            }
        }
    }

    @Test func neverPlansARemedyBelowTheCapacityFloor() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            for step in Self.simulate(world).steps where step.outcome.plan.actions.contains(where: { $0.step != nil }) {
                // Healthy (or in the band, which is healthy by hysteresis) and in no incident after the pass,
                // at the weight the plan leaves it. Incidents only close during a pass, so this is at least the
                // capacity the engine saw when it decided.
                var healthy = 0.0
                for (index, name) in world.names.enumerated() where [0, 2].contains(world.code(pass: step.pass, server: index)) {
                    let target = TargetID(pool: "web", server: name)
                    guard !step.outcome.state.incidents.keys.contains(where: { $0.target == target }) else { continue }
                    healthy += step.outcome.plan.simulated[target]?.effectiveShare ?? 1
                }
                let capacity = healthy / Double(world.servers)
                #expect(capacity >= Double(world.floorPercent) / 100 - 1e-9, "\(world): capacity \(capacity) at pass \(step.pass)")
            }
        }
    }

    @Test func neverExceedsTheRateOrInFlightLimits() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            let steps = Self.simulate(world).steps
            // A remedy is one ladder step, whatever number of actions it takes.
            var remedies: [Double] = []
            for step in steps {
                let applied = Set(step.outcome.plan.actions.filter { $0.step != nil }.map { "\($0.key)#\($0.step!)" })
                remedies += Array(repeating: step.time, count: applied.count)
                let inFlight = Set(
                    step.outcome.state.incidents.values.filter { $0.phase == .firing && $0.hasActed }.map(\.key.target))
                #expect(inFlight.count <= world.maxInFlight, "\(world): \(inFlight.count) in flight at pass \(step.pass)")
            }
            for (index, from) in remedies.enumerated() {
                for to in remedies[index...] {
                    let inWindow = remedies.filter { $0 >= from && $0 <= to }.count
                    let allowed = Double(world.rate) + Double(world.rate) * (to - from) / 60
                    #expect(Double(inWindow) <= allowed + 1e-9, "\(world): \(inWindow) remedies in [\(from), \(to)]")
                }
            }
        }
    }

    @Test func aTargetThatStaysHealthyGetsItsFullWeightBack() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            var scenario = Self.simulate(world).scenario
            let healthy: [String: [String: Double?]] = ["errors": Dictionary(uniqueKeysWithValues: world.names.map { ($0, Optional(0.0)) })]
            var time = Double(world.passes)
            for _ in 0..<200 {
                scenario.pass(at: time, healthy)
                time += 1
            }
            #expect(scenario.state.incidents.isEmpty, "\(world): \(scenario.state.incidents.values.map(\.phase))")
            #expect(scenario.last?.plan.desired.isEmpty == true)
            #expect(scenario.last?.healthyCapacity["web"] == 1)
        }
    }

    @Test func theSameInputsGiveTheSamePlan() async {
        await propertyCheck(count: 30, input: Self.worlds) { world in
            let first = Self.simulate(world).steps
            let second = Self.simulate(world).steps
            #expect(first.map(\.outcome.plan) == second.map(\.outcome.plan))
            #expect(first.map(\.outcome.records) == second.map(\.outcome.records))
            #expect(first.last?.outcome.state == second.last?.outcome.state)
        }
    }
}
