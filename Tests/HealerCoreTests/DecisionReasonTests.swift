import Foundation
import HealerCore
import Testing

/// The sentences people read are rendered in one place; these pin them, since every other test asserts on codes.
@Suite("Decision reasons")
struct DecisionReasonTests {
    static let ready100 = DesiredServerState(weightPercent: 100, admin: .ready)
    static let ready50 = DesiredServerState(weightPercent: 50, admin: .ready)

    @Test(arguments: [
        (DecisionReason.dataUnknown(.stale), "data unknown (stale): timers frozen, nothing undone, nothing started"),
        (.noData, "no data for this target: timers frozen, nothing undone"),
        (.targetGone, "the pod left its pool: nothing left to undo; its replacement is judged on its own, against the same budget"),
        (.alertIgnored(alert: "A", value: 0), "alert A not confirmed by the rule's own query (value 0.0); ignored"),
        (.alertIgnored(alert: "A", value: nil), "alert A not confirmed by the rule's own query (no trustworthy value); ignored"),
        (.alertConfirmed(alert: "A"), "alert A confirmed by the rule's own query: firing without waiting for `for`"),
        (.pending(unhealthy: "> 0.05", pendingFor: .seconds(4)), "unhealthy (> 0.05); pending for 4s"),
        (.healthyBeforeFiring, "healthy again before firing; nothing done"),
        (.firing(pendingFor: .seconds(4)), "firing: unhealthy for 4s"),
        (.escalating(flapping: false, verify: .seconds(10), after: .setWeight(percent: 25)), "escalating: still unhealthy 10s after set_weight"),
        (.escalating(flapping: true, verify: .seconds(10), after: .drain), "escalating: flapping 10s after drain"),
        (.relapse(step: 1, flapping: false), "relapse while giving capacity back: re-applying step 2"),
        (
            .relapse(step: 1, flapping: true),
            "relapse while giving capacity back (flapping: its healthy readings count as unhealthy): re-applying step 2"
        ),
        (.recovering(.healthyFor(.seconds(20))), "recovering: healthy for 20s"),
        (.recovering(.releasedAfter(.minutes(30))), "recovering: released from quarantine after 30m healthy"),
        (.recovering(.releasedByOperator), "recovering: released from quarantine by an operator"),
        (.stepFailed(step: 0, detail: "exit 1"), "step 1 failed (exit 1): not in force; trying it again"),
        (.budgetExhausted(attempts: 3, window: .seconds(3600)), "budget exhausted: 3 remedies in 1h; quarantining"),
        (.waitingForSessions(sessions: 1, wait: .seconds(30)), "restart waits for 1 session to end (at most 30s after the drain)"),
        (.heldBack(.notLeader), "not the leader: another replica acts"),
        (.stepApplied(step: 0, action: .setWeight(percent: 25), verify: .seconds(10)), "step 1: set_weight 25%; verifying for 10s"),
        (.stepApplied(step: 3, action: .quarantine(notify: nil), verify: nil), "step 4: quarantine; waiting for a human"),
        (.recovered, "recovered: full weight, in rotation"),
        (.restoring(from: ready50, to: ready100), "giving capacity back: \(ready50) → \(ready100)"),
        (.scaleOut(reading: "load", above: 0.8, spare: "s4"), "scale out: load above 80%; spare s4 enters rotation"),
        (.scaleIn(reading: "load", below: 0.3, spare: "s4"), "scale in: load below 30%; spare s4 leaves rotation"),
        (.ruleAnswers(rule: "R"), "rule R answers again"),
        (.ruleFresh(rule: "R"), "the data behind rule R is fresh again"),
        (
            .ruleStale(rule: "R", maxSampleAge: .seconds(120), newly: ["s1"], total: 2),
            "the data behind rule R is older than max_sample_age 2m for 1 more server (s1), 2 in all: their verdicts are unknown, nothing is done on them"
        ),
        (
            .stormStarted(scope: "web", troubled: 2, total: 3, threshold: 0.5),
            "storm: 2 of 3 servers of pool web are unhealthy or unknown (over 50%); destructive actions frozen"
        ),
        (.stormOver(seconds: 40, cooldown: .seconds(120)), "storm over after 40s; destructive actions resume after a cooldown of 2m"),
        (.stormOverWithoutCooldown(seconds: 5), "storm over after 5s; data was missing, not unhealthy: no cooldown"),
        (.operatorPaused(true), "paused by an operator"),
        (.operatorPaused(false), "resumed by an operator"),
        (.stateUnreadable, "the saved state could not be read, so nothing was done this pass"),
        (
            .leaderTookOver(epoch: 3, holder: "healer-b_1a2b", incidents: 1),
            "healer-b_1a2b leads (epoch 3): took over the shared state with 1 open incident"
        ),
        (.leaderStepDown(holder: "healer-b_1a2b"), "stopped leading: healer-b_1a2b leads now; nothing is done here"),
        (.leaderStepDown(holder: nil), "stopped leading: nobody leads as far as this replica can see; nothing is done here"),
    ])
    func sentences(reason: DecisionReason, sentence: String) {
        #expect(reason.sentence == sentence)
    }

    static let target = TargetID(pool: "web", server: "s1")

    @Test(arguments: [
        (GateHold.notLeader, Gate.leader, "not the leader: another replica acts"),
        (.paused(pool: nil), .pause, "paused"),
        (.paused(pool: "web"), .pause, "paused (pool web)"),
        (.balancerUnseen("connection refused"), .dataQuality, "the balancer cannot be seen: connection refused"),
        (.verdictUncertain, .dataQuality, "the verdict does not rest on fresh, complete data"),
        (.loadUncertain, .dataQuality, "the load does not rest on fresh, complete data"),
        (
            .belowCapacityFloor(capacity: 1.0 / 3, floor: 0.6), .capacityFloor,
            "healthy capacity would be 33%, below the floor of 60%: spreading load instead of taking servers out"
        ),
        (.inFlight(count: 1, pool: "web", limit: 1), .inFlight, "1 servers of web already under remediation (max_in_flight 1)"),
        (.rateLimit(perMinute: 6), .rateLimit, "global rate limit of 6 actions per minute reached"),
        (.budgetExhausted(attempts: 2, window: .seconds(3600)), .budget, "budget exhausted: 2 remedies in 1h"),
        (.storm, .storm, "storm: too much of the pool is unhealthy or unknown; Healer may be the one that is blind"),
        (.stormCooldown(secondsLeft: 12), .storm, "storm cooldown: 12s left"),
        (.cooldown(target: target, elapsed: 5, cooldown: .seconds(30)), .cooldown, "last action on web/s1 was 5s ago (cooldown 30s)"),
    ])
    func gateHolds(hold: GateHold, gate: Gate, sentence: String) {
        #expect(hold.gate == gate)
        #expect(DecisionReason.heldBack(hold).sentence == sentence)
    }

    @Test(arguments: [
        (DecisionAction.setWeight(percent: 25), "set_weight 25%", #"{"name":"set_weight","percent":25}"#),
        (.drain, "drain", #"{"name":"drain"}"#),
        (.restart(actuator: "restart-backend"), "restart restart-backend", #"{"actuator":"restart-backend","name":"restart"}"#),
        (.quarantine(notify: "pager"), "quarantine (notify pager)", #"{"name":"quarantine","notify":"pager"}"#),
        (.quarantine(notify: nil), "quarantine", #"{"name":"quarantine"}"#),
        (.restore(ready50), "restore ready@50%", #"{"name":"restore","state":{"admin":"ready","weightPercent":50}}"#),
        (.scaleOut, "scale out", #"{"name":"scale_out"}"#),
        (.scaleIn, "scale in", #"{"name":"scale_in"}"#),
    ])
    func actions(action: DecisionAction, sentence: String, json: String) throws {
        #expect(action.description == sentence)
        #expect(String(decoding: try HealerJSON.encoder().encode(action), as: UTF8.self) == json)
        #expect(try HealerJSON.decoder().decode(DecisionAction.self, from: Data(json.utf8)) == action)
    }

    /// A record carries its action typed and as a sentence; an action a newer Healer wrote reads as unknown.
    @Test func aRecordCarriesItsActionTypedAndAnUnknownOneIsKept() throws {
        let record = DecisionRecord(
            time: Date(timeIntervalSince1970: 1_000), kind: .action, pool: "web", action: .setWeight(percent: 25),
            because: .stepApplied(step: 0, action: .setWeight(percent: 25), verify: .seconds(10)))
        #expect(record.action == "set_weight 25%")
        #expect(record.actionType == .setWeight(percent: 25))
        #expect(record.why == .stepApplied(step: 0, action: .setWeight(percent: 25), verify: .seconds(10)))
        let json = String(decoding: try HealerJSON.encoder().encode(record), as: UTF8.self)
        #expect(json.contains(#""actionType":{"name":"set_weight","percent":25}"#))
        let decoded = try HealerJSON.decoder().decode(DecisionRecord.self, from: Data(json.utf8))
        #expect(decoded.actionType == .setWeight(percent: 25))
        #expect(decoded.why == nil)
        let future = try HealerJSON.decoder().decode(
            DecisionRecord.self, from: Data(json.replacingOccurrences(of: #""name":"set_weight""#, with: #""name":"reboot_rack""#).utf8))
        #expect(future.actionType == .unknown(name: "reboot_rack"))
        #expect(future.action == "set_weight 25%")
        // A known name whose parameters changed keeps the record readable too.
        let changed = try HealerJSON.decoder().decode(
            DecisionRecord.self, from: Data(json.replacingOccurrences(of: #""percent":25"#, with: #""share":0.25"#).utf8))
        #expect(changed.actionType == .unknown(name: "set_weight"))
    }

    /// A code written by a newer Healer does not make its record unreadable after a rollback.
    @Test func anUnknownCodeReadsAsUnknown() throws {
        let record = DecisionRecord(time: Date(timeIntervalSince1970: 1_000), kind: .pool, pool: "web", because: .recovered)
        let json = String(decoding: try HealerJSON.encoder().encode(record), as: UTF8.self).replacingOccurrences(
            of: "\"recovered\"", with: "\"from_the_future\"")
        let decoded = try HealerJSON.decoder().decode(DecisionRecord.self, from: Data(json.utf8))
        #expect(decoded.code == .unknown)
        #expect(decoded.reason == record.reason)
    }
}
