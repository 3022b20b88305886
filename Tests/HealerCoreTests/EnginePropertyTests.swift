import Foundation
import HealerCore
import HealerTesting
import PropertyBased
import Synchronization
import Testing

/// Invariants of the engine over random multi-rule worlds, stated per (rule, target): random readings per pass,
/// rule and server, leadership changes, passes in which Prometheus answers nothing, and one rule whose own
/// expression is broken for a stretch of passes.
@Suite("Engine invariants")
struct EnginePropertyTests {
    /// One random world: per stretch of three passes, rule and server a code (0 healthy, 1 unhealthy, 2 band, 3 no
    /// series), drawn so that most servers are healthy most of the time (a world always in a storm would test little).
    struct World: CustomStringConvertible {
        var servers: Int
        var rules: Int
        var codes: [Int]
        var floorPercent: Int
        var maxInFlight: Int
        var rate: Int
        /// The rule broken by its own fault (none when it is `rules`), and the passes it is broken in.
        var brokenRule: Int
        var brokenFrom: Int
        var brokenPasses: Int

        /// Passes a code lasts: long enough for `for` (2 s) to pass, so that faults fire.
        static let stretch = 3
        var passes: Int { codes.count / (servers * rules) * Self.stretch }
        var names: [String] { (1...servers).map { "s\($0)" } }
        var ruleNames: [String] { (0..<rules).map { "r\($0)" } }
        /// 70 % healthy, 15 % unhealthy, 10 % in the band, 5 % without a series.
        func code(pass: Int, rule: Int, server: Int) -> Int {
            switch codes[((pass / Self.stretch) * rules + rule) * servers + server] {
            case 0..<14: 0
            case 14..<17: 1
            case 17..<19: 2
            default: 3
            }
        }
        var description: String {
            "servers=\(servers) rules=\(rules) floor=\(floorPercent)% inFlight=\(maxInFlight) rate=\(rate) passes=\(passes) "
                + "broken=r\(brokenRule)@\(brokenFrom)+\(brokenPasses)"
        }

        static let safety: SafetySettings = {
            var safety = SafetySettings()
            safety.targetCooldown = .seconds(2)
            safety.stormMaxUnhealthy = 0.7
            safety.stormCooldown = .seconds(5)
            return safety
        }()

        var configuration: HealerConfiguration {
            var safety = Self.safety
            safety.maxActionsPerMinute = rate
            let ladder = [
                LadderStep(.setWeight(percent: 25), verify: .seconds(3)),
                LadderStep(.drain(waitSessions: .seconds(1)), verify: .seconds(3)),
                LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(3)),
                LadderStep(.quarantine(notify: nil, releaseAfter: .seconds(30))),
            ]
            var configuration = HealerConfiguration.fixture(
                servers: names, ladder: ladder, pendingFor: .seconds(2), clearFor: .seconds(3), rampStep: .seconds(2),
                budget: Budget(maxAttempts: 3, window: .seconds(120)), floor: Double(floorPercent) / 100, maxInFlight: maxInFlight,
                safety: safety)
            configuration.groups[0].rules[0].name = "r0"
            configuration.groups[0].rules[0].expression = "q0"
            for rule in 1..<rules { configuration = configuration.adding(rule: "r\(rule)", expression: "q\(rule)") }
            return configuration
        }

        /// Prometheus answers nothing at all in these passes.
        func isBlind(pass: Int) -> Bool { pass % 23 == 22 }
        func isBroken(rule: Int, pass: Int) -> Bool {
            let from = brokenFrom % max(passes, 1)
            return rule == brokenRule && pass >= from && pass < from + brokenPasses
        }
        func isLeader(pass: Int) -> Bool { pass % 17 != 16 }

        /// Whether rule `rule` read server `server` definitely (healthy, unhealthy or in the band) in `pass`.
        func isDefinite(pass: Int, rule: Int, server: Int) -> Bool {
            !isBlind(pass: pass) && !isBroken(rule: rule, pass: pass) && code(pass: pass, rule: rule, server: server) != 3
        }

        /// Whether `server` is read healthy (or in the band) by every rule that judges the pool in `pass`: broken
        /// rules are left out, a blind pass sees nothing healthy.
        func isReadHealthy(pass: Int, server: Int) -> Bool {
            guard !isBlind(pass: pass) else { return false }
            return (0..<rules).allSatisfy { rule in
                isBroken(rule: rule, pass: pass) || [0, 2].contains(code(pass: pass, rule: rule, server: server))
            }
        }

        /// Whether `server` is certainly troubled (unhealthy or unknown by a judging rule) in `pass`, whatever the
        /// hysteresis: the band and flapping can only add to this.
        func isSurelyTroubled(pass: Int, server: Int) -> Bool {
            isBlind(pass: pass)
                || (0..<rules).contains { rule in !isBroken(rule: rule, pass: pass) && [1, 3].contains(code(pass: pass, rule: rule, server: server)) }
        }

        func values(pass: Int) -> [String: [String: Double?]] {
            var values: [String: [String: Double?]] = [:]
            for rule in 0..<rules {
                var series: [String: Double?] = [:]
                for (index, name) in names.enumerated() {
                    switch code(pass: pass, rule: rule, server: index) {
                    case 0: series[name] = 0.0
                    case 1: series[name] = 0.3
                    case 2: series[name] = 0.03
                    default: series[name] = .some(nil)
                    }
                }
                values["r\(rule)"] = series
            }
            return values
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
            let failing: Set<String> = world.isBlind(pass: pass) ? Set(world.ruleNames) : []
            let broken: Set<String> = Set((0..<world.rules).filter { world.isBroken(rule: $0, pass: pass) }.map { "r\($0)" }).subtracting(failing)
            let outcome = scenario.pass(
                at: Double(pass), world.values(pass: pass), isLeader: world.isLeader(pass: pass), failing: failing, broken: broken)
            steps.append(Step(pass: pass, time: Double(pass), outcome: outcome, previous: previous))
        }
        return (scenario, steps)
    }

    static let worlds = zip(
        Gen.int(in: 2...6), Gen.int(in: 1...3), Gen.int(in: 0...19).array(of: 40...600), Gen.int(in: 0...90), Gen.int(in: 1...3),
        Gen.int(in: 1...12), Gen.int(in: 0...3), zip(Gen.int(in: 0...200), Gen.int(in: 0...400))
    )
    .map { servers, rules, codes, floor, inFlight, rate, broken, span in
        World(
            servers: servers, rules: rules, codes: codes, floorPercent: floor, maxInFlight: inFlight, rate: rate, brokenRule: min(broken, rules),
            brokenFrom: span.0, brokenPasses: span.1)
    }

    static func server(_ key: IncidentKey) -> Int { Int(key.target.server.dropFirst())! - 1 }
    static func rule(_ name: String) -> Int { Int(name.dropFirst())! }

    /// Healthy capacity after a pass, counted from the world: servers read healthy by every judging rule, in no
    /// incident, at the weight the plan leaves them. Incidents only close during a pass, so this is at most what
    /// the engine saw when it decided… and at least what any remedy of the pass left.
    static func capacity(after step: Step, in world: World) -> Double {
        var healthy = 0.0
        for (index, name) in world.names.enumerated() where world.isReadHealthy(pass: step.pass, server: index) {
            let target = TargetID(pool: "web", server: name)
            guard !step.outcome.state.incidents.keys.contains(where: { $0.target == target }) else { continue }
            healthy += step.outcome.plan.simulated[target]?.effectiveShare ?? 1
        }
        return healthy / Double(world.servers)
    }

    /// Every balancer change and actuator call of `plan`.
    static func effects(of plan: Plan) -> [(key: IncidentKey, action: DecisionAction, step: Int?)] {
        plan.changes.map { ($0.key, $0.action, $0.step) } + plan.calls.map { ($0.key, $0.action, $0.step) }
    }

    @Test func neverActsOnUnknownData() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            for step in Self.simulate(world).steps {
                for effect in Self.effects(of: step.outcome.plan) {
                    let definite = world.isDefinite(pass: step.pass, rule: Self.rule(effect.key.rule), server: Self.server(effect.key))
                    #expect(definite, "\(world): \(effect.action) of \(effect.key.rule) at pass \(step.pass)")
                }
            }
        }
    }

    @Test func neverPlansARemedyBelowTheCapacityFloor() async {
        let acting = Mutex((worlds: 0, acted: 0))
        await propertyCheck(count: 60, input: Self.worlds) { world in
            var acted = false
            for step in Self.simulate(world).steps where Self.effects(of: step.outcome.plan).contains(where: { $0.step != nil }) {
                acted = true
                let capacity = Self.capacity(after: step, in: world)
                #expect(capacity >= Double(world.floorPercent) / 100 - 1e-9, "\(world): capacity \(capacity) at pass \(step.pass)")
            }
            acting.withLock { $0 = ($0.worlds + 1, $0.acted + (acted ? 1 : 0)) }
        }
        // The worlds are drawn so that remedies happen: a property that holds because nothing ever acts proves nothing.
        let (worlds, acted) = acting.withLock { $0 }
        #expect(acted * 2 >= worlds, "only \(acted) of \(worlds) worlds saw a remedy")
    }

    @Test func neverExceedsTheRateOrInFlightLimits() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            let steps = Self.simulate(world).steps
            // A remedy is one ladder step, whatever number of actions it takes.
            var remedies: [Double] = []
            for step in steps {
                let applied = Set(Self.effects(of: step.outcome.plan).filter { $0.step != nil }.map { "\($0.key)#\($0.step!)" })
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

    /// A record that says a gate passed means the gate held: each listed gate's condition is recomputed from the
    /// world and the state before the pass, not taken from the evaluator.
    @Test func everyGateARecordListsHeld() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            let configuration = world.configuration
            for step in Self.simulate(world).steps {
                let now = Date(timeIntervalSince1970: 1_800_000_000 + step.time)
                var bucket = step.previous.rateLimiter
                bucket.refill(capacity: world.rate, now: now)
                var tokensTaken = 0
                var actedOn: Set<TargetID> = []
                let inFlightBefore = Set(step.previous.incidents.values.filter { $0.phase == .firing && $0.hasActed }.map(\.key.target))
                let inFlightAfter = Set(step.outcome.state.incidents.values.filter { $0.phase == .firing && $0.hasActed }.map(\.key.target))
                let troubled = (0..<world.servers).filter { world.isSurelyTroubled(pass: step.pass, server: $0) }.count
                for record in step.outcome.records {
                    let context = "\(world): \(record.reason) at pass \(step.pass)"
                    guard let rule = record.rule, let server = record.server, let index = Int(server.dropFirst()).map({ $0 - 1 }) else { continue }
                    let key = IncidentKey(rule: rule, target: TargetID(pool: "web", server: server))
                    for gate in record.gatesPassed {
                        switch gate {
                        case .leader:
                            #expect(world.isLeader(pass: step.pass), "\(context): leader")
                        case .pause:
                            #expect(!step.previous.pause.isPaused("web"), "\(context): pause")
                        case .dataQuality:
                            #expect(world.isDefinite(pass: step.pass, rule: Self.rule(rule), server: index), "\(context): data quality")
                        case .capacityFloor:
                            let capacity = Self.capacity(after: step, in: world)
                            #expect(capacity >= Double(world.floorPercent) / 100 - 1e-9, "\(context): capacity \(capacity)")
                        case .inFlight:
                            let left = !inFlightBefore.subtracting(inFlightAfter).isEmpty
                            #expect(
                                inFlightBefore.contains(key.target) || inFlightBefore.count < world.maxInFlight || left,
                                "\(context): in flight \(inFlightBefore.count)")
                        case .rateLimit:
                            #expect(bucket.tokens - Double(tokensTaken) >= 1 - 1e-9, "\(context): tokens \(bucket.tokens) - \(tokensTaken)")
                        case .budget:
                            let window = 120.0
                            let attempts = (step.previous.attempts[key] ?? []).filter { now.timeIntervalSince($0) < window }.count
                            #expect(attempts < 3 || record.step == 3, "\(context): \(attempts) attempts")
                        case .storm:
                            #expect(Double(troubled) / Double(world.servers) <= World.safety.stormMaxUnhealthy, "\(context): storm")
                            for scope in ["web", "*"] {
                                let until = step.previous.storms[scope]?.cooldownUntil
                                #expect(until.map { now >= $0 } ?? true, "\(context): storm cooldown")
                            }
                        case .cooldown:
                            let last = step.previous.lastActionAt[key.target]
                            #expect(
                                last.map { now.timeIntervalSince($0) >= configuration.safety.targetCooldown.seconds } ?? true, "\(context): cooldown")
                            #expect(!actedOn.contains(key.target), "\(context): a second remedy on the server in the same pass")
                        }
                    }
                    if record.kind == .action, record.gatesPassed.contains(.rateLimit) {
                        tokensTaken += 1
                        actedOn.insert(key.target)
                    }
                }
            }
        }
    }

    @Test func aTargetThatStaysHealthyGetsItsFullWeightBack() async {
        await propertyCheck(count: 60, input: Self.worlds) { world in
            var scenario = Self.simulate(world).scenario
            let series = Dictionary(uniqueKeysWithValues: world.names.map { ($0, Optional(0.0)) })
            let healthy = Dictionary(uniqueKeysWithValues: world.ruleNames.map { ($0, series) })
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

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
