import CurlHTTP
import FakeKubernetes
import Foundation
import HealerCore
import HealerTesting
import ReplicaHarness
import Testing

/// Two `healer run` processes with `ha:` against the fake API server (``ReplicaPair``): a pool of pods whose
/// readiness gates and deletions are the only writes, so the API server's request log shows every action either
/// replica took. Timings are short (3 s lease) and every wait polls with a generous deadline; timing goals belong to
/// bench/failover.sh.
@Suite("Two replicas: failover and fencing", .serialized)
struct HAFailoverTests {
    @Test func killedBetweenTwoStepsTheLeaderIsSucceededAtTheSameStepAndNoActionIsTakenTwice() async throws {
        try await ReplicaPair.with { pair in
            try await pair.startLeaderThenFollower()
            pair.sick.set(["web-b"])
            try await waitUntil("web-b drained by the leader", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            // Between its first step and its second (6 s of verification), the leader is killed.
            let leader = try #require(pair.process("healer-a"))
            kill(-leader.pid, SIGKILL)
            _ = try await eventually("healer-a to die", timeout: .seconds(10)) { leader.exitStatus() }
            try await waitUntil("healer-b to lead", timeout: .seconds(30)) { pair.leads("healer-b") }
            try await waitUntil("web-b restarted by the new leader", timeout: .seconds(30)) {
                pair.cluster.object("pods", namespace: "shop", name: "web-b") == nil
            }
            // Each action exactly once: one drain (by A), one delete (by B), as the API server saw them and as the
            // shared decisions say; the new leader took over with the incident open.
            #expect(pair.gateWrites("web-b", "False") == 1)
            #expect(pair.deletions("web-b") == 1)
            let decisions = pair.sharedDecisions
            #expect(decisions.filter { $0.code == "step_applied" }.map(\.action) == ["drain", "restart"])
            #expect(decisions.filter { $0.code == "leader_took_over" }.count == 2)
            #expect(await pair.sees("healer-b", leading: true, holder: "healer-b"))
        }
    }

    @Test func aStoppedLeaderThatResumesActsOnNothingAndFollows() async throws {
        try await ReplicaPair.with { pair in
            try await pair.startLeaderThenFollower()
            pair.sick.set(["web-b"])
            try await waitUntil("web-b drained by the leader", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            let stopped = try #require(pair.process("healer-a"))
            kill(-stopped.pid, SIGSTOP)
            try await waitUntil("healer-b to lead", timeout: .seconds(30)) { pair.leads("healer-b") }
            try await waitUntil("web-b restarted by the new leader", timeout: .seconds(30)) {
                pair.cluster.object("pods", namespace: "shop", name: "web-b") == nil
            }
            let requestsBefore = pair.cluster.requests.count
            kill(-stopped.pid, SIGCONT)
            try await waitUntil("healer-a to follow", timeout: .seconds(30)) {
                await pair.sees("healer-a", leading: false, holder: "healer-b")
            }
            // Resumed, it wrote nothing: no gate, no delete, no state, no lease taken back.
            let after = pair.cluster.requests.dropFirst(requestsBefore)
            #expect(!after.contains { $0.method == "PATCH" && $0.path.hasSuffix("/pods/web-b/status") })
            #expect(pair.gateWrites("web-b", "False") == 1 && pair.deletions("web-b") == 1)
            #expect(pair.leads("healer-b"))
            let map = pair.cluster.object("configmaps", namespace: "shop", name: "healer-state")
            #expect(map?.value(at: "data.holder")?.string?.hasPrefix("healer-b_") == true && map?.value(at: "data.epoch") == "1")
        }
    }

    @Test func withTheAPIServerUnreachableTheLeaderStepsDownAndNothingActsUntilItReturns() async throws {
        try await ReplicaPair.with { pair in
            try await pair.startLeaderThenFollower()
            pair.cluster.beginOutage("/leases/")
            pair.cluster.beginOutage("/configmaps/")
            try await waitUntil("healer-a to step down", timeout: .seconds(30)) { await pair.leadership("healer-a")?.leading == false }
            pair.sick.set(["web-b"])
            // Nobody leads: both judge web-b unhealthy, in passes well past the rule's `for` (1 s), and neither touches it.
            let judgedFrom = Date().timeIntervalSince1970 + 3
            try await waitUntil("both replicas to judge web-b unhealthy past the rule's for", timeout: .seconds(30)) {
                for name in ReplicaPair.names {
                    guard let pass = await pair.lastPass(name, rule: "PodErrorRatio"), pass.time >= judgedFrom, pass.verdicts["web-b"] == "unhealthy"
                    else { return false }
                }
                return true
            }
            #expect(pair.gate("web-b") == "True")
            let (a, b) = (await pair.leadership("healer-a"), await pair.leadership("healer-b"))
            #expect(a?.leading != true && b?.leading != true)
            #expect(pair.gateWrites("web-b", "False") == 0)
            pair.cluster.endOutage("/leases/")
            pair.cluster.endOutage("/configmaps/")
            try await waitUntil("web-b drained once somebody leads again", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            #expect(pair.gateWrites("web-b", "False") == 1)
        }
    }

    @Test func anAlertDeliveredToTheFollowerIsActedOnByTheLeader() async throws {
        // Ten minutes of `for`: only a confirmed alert makes the rule fire within the test.
        var settings = ReplicaPair.Settings()
        settings.pendingFor = "10m"
        try await ReplicaPair.with(settings) { pair in
            try await pair.startLeaderThenFollower()
            pair.sick.set(["web-b"])
            let payload = #"""
                {"version":"4","status":"firing","receiver":"healer","groupKey":"{}:{alertname=\"PodErrorRatio\"}","alerts":[
                {"status":"firing","labels":{"alertname":"PodErrorRatio","namespace":"shop","pod":"web-b"},
                 "startsAt":"2026-11-30T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"a1b2c3"}]}
                """#
            let follower = "http://127.0.0.1:\(pair.ports["healer-b"] ?? 0)"
            let response = try await HTTPClient().execute(
                HTTPRequest(
                    method: .post, url: follower + "/api/v1/alerts", headers: [HTTPHeader("Content-Type", "application/json")],
                    body: Data(payload.utf8)))
            // The leader's own answer comes back: it accepted the alert.
            #expect(response.status == 200 && response.text.contains(#""accepted":1"#), "\(response.text)")
            try await waitUntil("web-b drained by the leader on the confirmed alert", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            let metrics = try await HTTPClient().get(follower + "/metrics").text
            #expect(metrics.contains(#"healer_alerts_received_total{status="forwarded"} 1"#))
            // An operator's pause sent to the follower pauses the leader (a follower's pass never saves a command).
            let pause = try await HTTPClient().execute(HTTPRequest(method: .post, url: follower + "/api/v1/pause?pool=web"))
            #expect(pause.status == 202, "\(pause.text)")
            let leader = "http://127.0.0.1:\(pair.ports["healer-a"] ?? 0)"
            try await waitUntil("the leader paused", timeout: .seconds(30)) {
                guard let status = try? await HTTPClient().get(leader + "/api/v1/status"),
                    let object = try? JSONSerialization.jsonObject(with: status.body) as? [String: Any]
                else { return false }
                return (object["pools"] as? [[String: Any]])?.first?["paused"] as? Bool == true
            }
        }
    }

    @Test func gracefulShutdownReleasesTheLeaseAndTheOtherReplicaLeads() async throws {
        try await ReplicaPair.with { pair in
            try await pair.startLeaderThenFollower()
            let leader = try #require(pair.process("healer-a"))
            kill(leader.pid, SIGTERM)
            let status = try await eventually("healer-a to exit", timeout: .seconds(30)) { leader.exitStatus() }
            #expect(status == 0)
            // It let go of the lease on its way out (holder emptied), so the other did not wait for it to expire.
            #expect(
                pair.cluster.requests.contains {
                    $0.method == "PUT" && $0.path.hasSuffix("/leases/healer") && $0.body.contains(#""holderIdentity":"""#)
                })
            try await waitUntil("healer-b to lead", timeout: .seconds(30)) {
                await pair.sees("healer-b", leading: true, holder: "healer-b")
            }
        }
    }
}
